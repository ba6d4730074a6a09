/**
 * `AWS::Personalize::Schema`: creates the schema through the local Personalize service, which
 * checks the Avro text (a schema that is not valid Avro fails the resource with the service's
 * InvalidInputException message). `Schema` is the Avro schema as a JSON string, as in
 * CloudFormation. Every property is create-only (a change replaces the schema). Ref and
 * `SchemaArn` are the schema's ARN. Deleting a schema that is already gone counts as done.
 */
import { isNotFound, personalizeOf } from './personalize-common.js';
import { optionalString, requiredString, serviceFailure, type Provisioner } from './types.js';

const PROPERTIES = ['Name', 'Schema', 'Domain'];

export const personalizeSchemaProvisioner: Provisioner = {
  type: 'AWS::Personalize::Schema',
  attributes: ['SchemaArn'],
  replacementProperties: PROPERTIES,
  properties: PROPERTIES,
  requiredProperties: ['Name', 'Schema'],

  async create(properties, ctx) {
    const input: Record<string, string> = {
      name: requiredString(properties, 'Name'),
      schema: requiredString(properties, 'Schema'),
    };
    const domain = optionalString(properties, 'Domain');
    if (domain !== undefined) input.domain = domain;
    let schemaArn: string;
    try {
      ({ schemaArn } = await personalizeOf(ctx).createSchema(input));
    } catch (error) {
      throw serviceFailure(error, 'Personalize');
    }
    return { physicalId: schemaArn, attributes: { SchemaArn: schemaArn } };
  },

  // Every property is create-only: the engine replaces the schema instead of calling this.
  async update() {
    return {};
  },

  async delete(physicalId, _properties, ctx) {
    try {
      await personalizeOf(ctx).deleteSchema({ schemaArn: physicalId });
    } catch (error) {
      if (isNotFound(error)) return;
      throw serviceFailure(error, 'Personalize');
    }
  },
};
