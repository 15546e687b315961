#!/usr/bin/env node
// Entry of the `mes` command: oclif loads the commands from oclif.manifest.json and dist/commands.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
