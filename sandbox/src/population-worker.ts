// The worker thread behind `populationRows`: generates the population's row batches and posts
// them, as many ahead as the loading thread has asked for, then null.
import { parentPort, workerData } from 'node:worker_threads';
import { rowBatches, type WorkerRequest } from './population-rows.js';

const port = parentPort!;
const { options, rowsPerBatch } = workerData as WorkerRequest;
let credits = 0;
let wake: (() => void) | undefined;
port.on('message', (more: number) => {
  credits += more;
  wake?.();
});
for (const batch of rowBatches(options, rowsPerBatch)) {
  while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
  credits -= 1;
  port.postMessage(batch);
}
port.postMessage(null);
