/**
 * `AWS::Personalize::DatasetGroup`: creates the dataset group through the local Personalize
 * service and, as AWS's handler does, returns only once it is ACTIVE (CREATE FAILED fails the
 * resource with the service's failureReason, and the half-made group is deleted so a rollback
 * leaves nothing behind). Every property is create-only, so any change replaces the group; there
 * is nothing to update in place. Ref and `DatasetGroupArn` are the group's ARN. Deleting a group
 * that is already gone counts as done.
 */
import type { PersonalizeCalls } from './personalize-common.js';
import { isNotFound, personalizeOf, waitUntilActive, type StatusView } from './personalize-common.js';
import { optionalString, requiredString, serviceFailure, type Provisioner } from './types.js';

const PROPERTIES = ['Name', 'RoleArn', 'KmsKeyArn', 'Domain'];

async function describeGroup(personalize: PersonalizeCalls, datasetGroupArn: string): Promise<StatusView> {
  const { datasetGroup } = await personalize.describeDatasetGroup({ datasetGroupArn });
  return datasetGroup as StatusView;
}

export const personalizeDatasetGroupProvisioner: Provisioner = {
  type: 'AWS::Personalize::DatasetGroup',
  attributes: ['DatasetGroupArn'],
  replacementProperties: PROPERTIES,
  properties: PROPERTIES,
  requiredProperties: ['Name'],

  async create(properties, ctx) {
    const input: Record<string, string> = { name: requiredString(properties, 'Name') };
    const roleArn = optionalString(properties, 'RoleArn');
    const kmsKeyArn = optionalString(properties, 'KmsKeyArn');
    const domain = optionalString(properties, 'Domain');
    if (roleArn !== undefined) input.roleArn = roleArn;
    if (kmsKeyArn !== undefined) input.kmsKeyArn = kmsKeyArn;
    if (domain !== undefined) input.domain = domain;
    const personalize = personalizeOf(ctx);
    let datasetGroupArn: string;
    try {
      ({ datasetGroupArn } = await personalize.createDatasetGroup(input));
    } catch (error) {
      throw serviceFailure(error, 'Personalize');
    }
    try {
      await waitUntilActive(ctx, `Dataset group ${input.name}`, () =>
        describeGroup(personalize, datasetGroupArn),
      );
    } catch (error) {
      await personalize.deleteDatasetGroup({ datasetGroupArn }).catch(() => undefined);
      throw serviceFailure(error, 'Personalize');
    }
    return { physicalId: datasetGroupArn, attributes: { DatasetGroupArn: datasetGroupArn } };
  },

  // Every property is create-only: the engine replaces the group instead of calling this.
  async update() {
    return {};
  },

  async delete(physicalId, _properties, ctx) {
    try {
      await personalizeOf(ctx).deleteDatasetGroup({ datasetGroupArn: physicalId });
    } catch (error) {
      if (isNotFound(error)) return;
      throw serviceFailure(error, 'Personalize');
    }
  },
};
