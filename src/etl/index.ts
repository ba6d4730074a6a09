/** The local ETL engine's public surface: the mapping spec and the streaming transform. */
export {
  EtlError,
  loadMappingSpec,
  outputColumns,
  specToJson,
  withOverrides,
  type ColumnMapping,
  type EtlErrorKind,
  type FilterSpec,
  type MappingSpec,
  type SpecOverrides,
} from './spec.js';
export {
  runEtl,
  TRAINING_MIN_INTERACTIONS,
  TRAINING_MIN_USERS_WITH_2,
  type EtlOptions,
  type EtlReport,
  type EtlSinks,
  type RejectSample,
} from './engine.js';
