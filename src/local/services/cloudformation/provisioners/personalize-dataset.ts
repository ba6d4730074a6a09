/**
 * `AWS::Personalize::Dataset`: creates the dataset through the local Personalize service and
 * waits until it is ACTIVE, as AWS's handler does. With a `DatasetImportJob` property it then
 * starts a FULL import of `DataSource.DataLocation` into the dataset, and — like CloudFormation —
 * does NOT wait for the import to finish: the resource is complete once the job is created, and
 * the job's outcome is read with DescribeDatasetImportJob. A failure to start the import fails
 * the resource (and the new dataset is deleted so a rollback leaves nothing behind).
 *
 * Name, DatasetType, DatasetGroupArn and SchemaArn are create-only (a change replaces the
 * dataset); a changed `DatasetImportJob` starts a new import job in place. Import job names are
 * unique per account, so a name is generated (`<stack>-<logicalId>-<RANDOM>`) when the template
 * gives none or repeats the previous one. `DatasetImportJob.DatasetImportJobArn` is read-only and
 * `DatasetImportJob.DatasetArn` is always this dataset: both are ignored.
 *
 * Deleting waits (up to a minute) for an import in progress to end, as the service refuses to
 * delete a dataset with a running import; a dataset that is already gone counts as deleted.
 */
import { AwsError } from '../../../core/errors.js';
import type { PersonalizeCalls } from './personalize-common.js';
import { isTemplateObject, sameTemplateValue, type TemplateObject } from '../template/index.js';
import {
  isNotFound,
  personalizeOf,
  POLL_INTERVAL_MS,
  sleep,
  STABILIZE_TIMEOUT_MS,
  waitUntilActive,
  type StatusView,
} from './personalize-common.js';
import {
  invalidProperty,
  requiredString,
  serviceFailure,
  typeName,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

const CREATE_ONLY = ['Name', 'DatasetType', 'DatasetGroupArn', 'SchemaArn'];
const IMPORT_JOB_PROPERTIES = ['JobName', 'DatasetImportJobArn', 'DatasetArn', 'DataSource', 'RoleArn'];
/** Members of DatasetImportJob that say what to import (the ARNs are not inputs). */
const IMPORT_INPUTS = ['JobName', 'DataSource', 'RoleArn'];

interface ImportJobSpec {
  jobName?: string;
  dataLocation: string;
  roleArn?: string;
}

function nestedString(object: TemplateObject, name: string, where: string): string | undefined {
  const value = object[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  throw invalidProperty(
    `Property validation failure: [#/${where}/${name}: expected type: String, found: ${typeName(value)}]`,
  );
}

/** The DatasetImportJob property, checked, or undefined when the template gives none. */
function importJobOf(properties: TemplateObject): ImportJobSpec | undefined {
  const job = properties.DatasetImportJob;
  if (job === undefined || job === null) return undefined;
  if (!isTemplateObject(job))
    throw invalidProperty(
      `Property validation failure: [#/DatasetImportJob: expected type: JSONObject, found: ${typeName(job)}]`,
    );
  const extraneous = Object.keys(job).filter((key) => !IMPORT_JOB_PROPERTIES.includes(key));
  if (extraneous.length > 0)
    throw invalidProperty(
      `Property validation failure: [${extraneous.map((key) => `#/DatasetImportJob: extraneous key [${key}] is not permitted`).join(', ')}]`,
    );
  nestedString(job, 'DatasetImportJobArn', 'DatasetImportJob');
  nestedString(job, 'DatasetArn', 'DatasetImportJob');
  const source = job.DataSource;
  if (!isTemplateObject(source))
    throw invalidProperty(
      source === undefined || source === null
        ? 'Property validation failure: [#/DatasetImportJob: required key [DataSource] not found]'
        : `Property validation failure: [#/DatasetImportJob/DataSource: expected type: JSONObject, found: ${typeName(source)}]`,
    );
  const dataLocation = nestedString(source, 'DataLocation', 'DatasetImportJob/DataSource');
  if (dataLocation === undefined || dataLocation === '')
    throw invalidProperty(
      'Property validation failure: [#/DatasetImportJob/DataSource: required key [DataLocation] not found]',
    );
  const jobName = nestedString(job, 'JobName', 'DatasetImportJob');
  const roleArn = nestedString(job, 'RoleArn', 'DatasetImportJob');
  return {
    dataLocation,
    ...(jobName === undefined || jobName === '' ? {} : { jobName }),
    ...(roleArn === undefined || roleArn === '' ? {} : { roleArn }),
  };
}

/** Whether two DatasetImportJob values ask for the same import (read-only ARNs aside). */
function sameImport(
  left: TemplateObject[string] | undefined,
  right: TemplateObject[string] | undefined,
): boolean {
  const inputs = (value: TemplateObject[string] | undefined): TemplateObject | undefined => {
    if (!isTemplateObject(value)) return undefined;
    return Object.fromEntries(Object.entries(value).filter(([key]) => IMPORT_INPUTS.includes(key)));
  };
  const l = inputs(left);
  const r = inputs(right);
  if (l === undefined || r === undefined) return l === r;
  return sameTemplateValue(l, r);
}

async function startImport(
  personalize: PersonalizeCalls,
  datasetArn: string,
  spec: ImportJobSpec,
  jobName: string,
  ctx: ProvisionContext,
): Promise<string> {
  const { datasetImportJobArn } = await personalize.createDatasetImportJob({
    jobName,
    datasetArn,
    dataSource: { dataLocation: spec.dataLocation },
    importMode: 'FULL',
    ...(spec.roleArn === undefined ? {} : { roleArn: spec.roleArn }),
  });
  ctx.log(
    `cloudformation: ${ctx.stackName}/${ctx.logicalId} started import ${datasetImportJobArn} from ${spec.dataLocation}`,
  );
  return datasetImportJobArn;
}

async function describeDataset(personalize: PersonalizeCalls, datasetArn: string): Promise<StatusView> {
  const { dataset } = await personalize.describeDataset({ datasetArn });
  return dataset as StatusView;
}

function isInUse(error: unknown): boolean {
  return error instanceof AwsError && error.code === 'ResourceInUseException';
}

export const personalizeDatasetProvisioner: Provisioner = {
  type: 'AWS::Personalize::Dataset',
  attributes: ['DatasetArn'],
  replacementProperties: CREATE_ONLY,
  properties: [...CREATE_ONLY, 'DatasetImportJob'],
  requiredProperties: CREATE_ONLY,

  async create(properties, ctx) {
    const input = {
      name: requiredString(properties, 'Name'),
      datasetType: requiredString(properties, 'DatasetType'),
      datasetGroupArn: requiredString(properties, 'DatasetGroupArn'),
      schemaArn: requiredString(properties, 'SchemaArn'),
    };
    const importJob = importJobOf(properties);
    const personalize = personalizeOf(ctx);
    let datasetArn: string;
    try {
      ({ datasetArn } = await personalize.createDataset(input));
    } catch (error) {
      throw serviceFailure(error, 'Personalize');
    }
    try {
      await waitUntilActive(ctx, `Dataset ${input.name}`, () => describeDataset(personalize, datasetArn));
      if (importJob !== undefined)
        await startImport(
          personalize,
          datasetArn,
          importJob,
          importJob.jobName ?? ctx.generateName({ maxLength: 63 }),
          ctx,
        );
    } catch (error) {
      await personalize.deleteDataset({ datasetArn }).catch(() => undefined);
      throw serviceFailure(error, 'Personalize');
    }
    return { physicalId: datasetArn, attributes: { DatasetArn: datasetArn } };
  },

  async update(physicalId, properties, previous, ctx) {
    const importJob = importJobOf(properties);
    if (importJob === undefined) return {}; // removing the property leaves imported data as it is
    if (sameImport(previous.properties.DatasetImportJob, properties.DatasetImportJob)) return {};
    const previousJob = previous.properties.DatasetImportJob;
    const previousName = isTemplateObject(previousJob) ? previousJob.JobName : undefined;
    const jobName =
      importJob.jobName !== undefined && importJob.jobName !== previousName
        ? importJob.jobName
        : ctx.generateName({ maxLength: 63 });
    try {
      await startImport(personalizeOf(ctx), physicalId, importJob, jobName, ctx);
    } catch (error) {
      throw serviceFailure(error, 'Personalize');
    }
    return {};
  },

  async delete(physicalId, _properties, ctx) {
    const personalize = personalizeOf(ctx);
    const deadline = Date.now() + STABILIZE_TIMEOUT_MS;
    for (;;) {
      try {
        await personalize.deleteDataset({ datasetArn: physicalId });
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        // An import in progress holds the dataset: wait for it to end, then try again.
        if (isInUse(error) && Date.now() < deadline) {
          await sleep(ctx, POLL_INTERVAL_MS);
          continue;
        }
        throw serviceFailure(error, 'Personalize');
      }
    }
  },
};
