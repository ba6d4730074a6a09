/**
 * `AWS::Glue::Job`: creates, updates and deletes the job through the local Glue service. The
 * template's properties are the Glue API's own member names; numbers that arrive as strings (a
 * `Ref` to a Number parameter resolves to a string) are turned back into numbers. Ref is the job
 * name; `Name` is a replacement property, as in CloudFormation. A name is generated when absent.
 */
import { AwsError } from '../../../core/errors.js';
import type { GlueService } from '../../glue/glue-jobs.js';
import { isTemplateObject, type TemplateObject, type TemplateValue } from '../template/index.js';
import {
  invalidProperty,
  optionalString,
  serviceCall,
  serviceFailure,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

const JOB_PROPERTIES = [
  'Name',
  'Role',
  'Command',
  'DefaultArguments',
  'NonOverridableArguments',
  'ExecutionProperty',
  'GlueVersion',
  'WorkerType',
  'NumberOfWorkers',
  'MaxCapacity',
  'Timeout',
  'MaxRetries',
  'Description',
  'Tags',
  'LogUri',
  'Connections',
  'SecurityConfiguration',
  'NotificationProperty',
  'ExecutionClass',
  'JobMode',
  'MaintenanceWindow',
  'AllocatedCapacity',
  'JobRunQueuingEnabled',
];
const NUMBERS = ['NumberOfWorkers', 'MaxCapacity', 'Timeout', 'MaxRetries', 'AllocatedCapacity'];

/** Glue's job operations, called through the service registry. */
function glueOf(ctx: ProvisionContext): Pick<GlueService, 'createJob' | 'updateJob' | 'deleteJob'> {
  return {
    createJob: serviceCall(ctx, 'glue', 'Glue', 'CreateJob'),
    updateJob: serviceCall(ctx, 'glue', 'Glue', 'UpdateJob'),
    deleteJob: serviceCall(ctx, 'glue', 'Glue', 'DeleteJob'),
  };
}

function toNumber(value: TemplateValue, name: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n))
    throw invalidProperty(
      `Property validation failure: [#/${name}: expected type: Number, found: ${typeof value}]`,
    );
  return n;
}

/** The Glue API input for the job's properties (without the name). */
function jobFields(properties: TemplateObject): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (key === 'Name' || value === undefined || value === null) continue;
    fields[key] = NUMBERS.includes(key) ? toNumber(value, key) : value;
  }
  const execution = properties.ExecutionProperty;
  if (
    isTemplateObject(execution) &&
    execution.MaxConcurrentRuns !== undefined &&
    execution.MaxConcurrentRuns !== null
  ) {
    fields.ExecutionProperty = {
      ...execution,
      MaxConcurrentRuns: toNumber(execution.MaxConcurrentRuns, 'ExecutionProperty/MaxConcurrentRuns'),
    };
  }
  return fields;
}

export const glueJobProvisioner: Provisioner = {
  type: 'AWS::Glue::Job',
  attributes: [],
  replacementProperties: ['Name'],
  properties: JOB_PROPERTIES,
  requiredProperties: ['Role', 'Command'],

  async create(properties, ctx) {
    const name = optionalString(properties, 'Name') ?? ctx.generateName({ maxLength: 255 });
    try {
      await glueOf(ctx).createJob({ Name: name, ...jobFields(properties) });
    } catch (error) {
      throw serviceFailure(error, 'Glue');
    }
    return { physicalId: name };
  },

  async update(physicalId, properties, _previous, ctx) {
    try {
      await glueOf(ctx).updateJob({ JobName: physicalId, JobUpdate: jobFields(properties) });
    } catch (error) {
      throw serviceFailure(error, 'Glue');
    }
    return {};
  },

  async delete(physicalId, _properties, ctx) {
    try {
      await glueOf(ctx).deleteJob({ JobName: physicalId });
    } catch (error) {
      if (error instanceof AwsError && error.code === 'EntityNotFoundException') return;
      throw serviceFailure(error, 'Glue');
    }
  },
};
