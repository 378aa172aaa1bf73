// PD configuration: the schema of every setting, its one parser, PD's live values.
export * from './duration.js';
export * from './schema.js';
export * from './value.js';
export * from './pd_config.js';
