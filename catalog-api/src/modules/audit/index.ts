// Public surface of the audit module: the patients' access history.
export {
  recordAccess,
  accessHistoryWriter,
  type AccessHistoryWriter,
  verifyAccessChain,
  listAccessHistory,
  appsInAccessHistory,
  ensureAccessHistoryPartitions,
  entryHash,
  GENESIS_HASH,
  type AccessEntry,
  type AccessInteraction,
  type RecordedAccess,
  type ChainVerification,
} from './history.js';
export { auditHandlers } from './routes.js';
