#!/usr/bin/env node
// The baseline of the CLI start-up benchmark: oclif's own entry, as `mes` has it.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
