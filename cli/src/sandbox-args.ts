// Arguments shared by the `mes sandbox` controls: the OAuth client each acts on, named by its
// client_id, as the API's /sandbox/clients/{clientId} paths name it.
import { Args } from '@oclif/core';

export const clientIdArg = Args.string({
  description: 'The OAuth client_id of one of your apps\' clients (printed by "mes sandbox token"; GET /apps/{appId}/clients lists them).',
  required: true,
});
