/**
 * `AWS::StepFunctions::StateMachine`: creates, updates and deletes the state machine through the
 * local Step Functions service. The definition comes from exactly one of `Definition` (an object in
 * the template), `DefinitionString` (often a `!Sub` with a variable map) or `DefinitionS3Location`
 * (a JSON or YAML object in the local S3); `DefinitionSubstitutions` then replace `${key}` in it, as
 * CloudFormation does. Ref and `Arn` are the state machine's ARN, `Name` its name;
 * `StateMachineName` and `StateMachineType` are replacement properties. A name is generated when
 * absent. The service checks the definition (an invalid one fails the resource with its message).
 */
import { parse as parseYaml } from 'yaml';
import type {
  CreateStateMachineInput,
  CreateStateMachineOutput,
  DescribeStateMachineOutput,
  UpdateStateMachineInput,
} from '@aws-sdk/client-sfn';
import { AwsError } from '../../../core/errors.js';
import { isTemplateObject, type TemplateObject, type TemplateValue } from '../template/index.js';
import {
  invalidProperty,
  optionalString,
  requiredString,
  serviceCall,
  serviceFailure,
  typeName,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

const PROPERTIES = [
  'Definition',
  'DefinitionString',
  'DefinitionS3Location',
  'DefinitionSubstitutions',
  'RoleArn',
  'StateMachineName',
  'StateMachineType',
  'LoggingConfiguration',
  'TracingConfiguration',
  'EncryptionConfiguration',
  'Tags',
];

function sfnOf(ctx: ProvisionContext) {
  return {
    create: serviceCall<CreateStateMachineInput, CreateStateMachineOutput>(
      ctx,
      'stepfunctions',
      'Step Functions',
      'CreateStateMachine',
    ),
    update: serviceCall<UpdateStateMachineInput, unknown>(
      ctx,
      'stepfunctions',
      'Step Functions',
      'UpdateStateMachine',
    ),
    describe: serviceCall<{ stateMachineArn: string }, DescribeStateMachineOutput>(
      ctx,
      'stepfunctions',
      'Step Functions',
      'DescribeStateMachine',
    ),
    delete: serviceCall<{ stateMachineArn: string }, unknown>(
      ctx,
      'stepfunctions',
      'Step Functions',
      'DeleteStateMachine',
    ),
  };
}

/** The S3 object `DefinitionS3Location` names, as text. */
async function readS3Definition(location: TemplateValue, ctx: ProvisionContext): Promise<string> {
  if (!isTemplateObject(location))
    throw invalidProperty(
      `Property validation failure: [#/DefinitionS3Location: expected type: JSONObject, found: ${typeName(location)}]`,
    );
  const bucket = requiredString(location, 'Bucket');
  const key = requiredString(location, 'Key');
  let text = '';
  try {
    const object = await ctx.services.s3.getObject({ bucket, key });
    object.body.setEncoding('utf8');
    for await (const chunk of object.body) text += chunk as string;
  } catch (error) {
    if (error instanceof AwsError)
      throw invalidProperty(
        `DefinitionS3Location s3://${bucket}/${key} could not be read: ${error.message} (Service: S3, Status Code: ${error.status})`,
      );
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw invalidProperty(
      `DefinitionS3Location s3://${bucket}/${key} is neither JSON nor YAML: ${(error as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalidProperty(`DefinitionS3Location s3://${bucket}/${key} does not hold a definition object.`);
  return JSON.stringify(parsed);
}

/** `${key}` → value for every DefinitionSubstitutions entry (other `${…}` are left as they are). */
function substitute(definition: string, substitutions: TemplateValue | undefined): string {
  if (substitutions === undefined || substitutions === null) return definition;
  if (!isTemplateObject(substitutions))
    throw invalidProperty(
      `Property validation failure: [#/DefinitionSubstitutions: expected type: JSONObject, found: ${typeName(substitutions)}]`,
    );
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(substitutions)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      values.set(key, String(value));
    else
      throw invalidProperty(
        `Property validation failure: [#/DefinitionSubstitutions/${key}: expected type: String, Number or Boolean, found: ${typeName(value as TemplateValue)}]`,
      );
  }
  return definition.replace(/\$\{([^}]+)\}/g, (whole, key: string) => values.get(key) ?? whole);
}

/** The definition text the properties give (exactly one source), substitutions applied. */
async function definitionOf(properties: TemplateObject, ctx: ProvisionContext): Promise<string> {
  const sources = ['Definition', 'DefinitionString', 'DefinitionS3Location'].filter(
    (name) => properties[name] !== undefined && properties[name] !== null,
  );
  if (sources.length !== 1)
    throw invalidProperty(
      sources.length === 0
        ? 'Property validation failure: the state machine needs one of Definition, DefinitionString or DefinitionS3Location.'
        : `Property validation failure: give only one of ${sources.join(', ')} (they are alternative sources of the definition).`,
    );
  let text: string;
  if (sources[0] === 'Definition') {
    const definition = properties.Definition!;
    if (!isTemplateObject(definition))
      throw invalidProperty(
        `Property validation failure: [#/Definition: expected type: JSONObject, found: ${typeName(definition)}]`,
      );
    text = JSON.stringify(definition);
  } else if (sources[0] === 'DefinitionString') {
    text = requiredString(properties, 'DefinitionString');
  } else {
    text = await readS3Definition(properties.DefinitionS3Location!, ctx);
  }
  return substitute(text, properties.DefinitionSubstitutions);
}

/** Members the API takes as they are in the template, with its camelCase names. */
function configuration(properties: TemplateObject): Partial<CreateStateMachineInput> {
  const out: Record<string, unknown> = {};
  const camel = (value: TemplateValue): unknown =>
    Array.isArray(value)
      ? value.map(camel)
      : isTemplateObject(value)
        ? Object.fromEntries(
            Object.entries(value).map(([k, v]) => [k[0]!.toLowerCase() + k.slice(1), camel(v!)]),
          )
        : value;
  for (const [name, member] of [
    ['LoggingConfiguration', 'loggingConfiguration'],
    ['TracingConfiguration', 'tracingConfiguration'],
  ] as const) {
    const value = properties[name];
    if (value === undefined || value === null) continue;
    if (!isTemplateObject(value))
      throw invalidProperty(
        `Property validation failure: [#/${name}: expected type: JSONObject, found: ${typeName(value)}]`,
      );
    out[member] = camel(value);
  }
  return out as Partial<CreateStateMachineInput>;
}

function tagsOf(properties: TemplateObject): { key: string; value: string }[] {
  const tags = properties.Tags;
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags))
    throw invalidProperty(
      `Property validation failure: [#/Tags: expected type: JSONArray, found: ${typeName(tags)}]`,
    );
  return tags.map((tag, i) => {
    if (!isTemplateObject(tag))
      throw invalidProperty(`Property validation failure: [#/Tags/${i}: expected type: JSONObject]`);
    return { key: requiredString(tag, 'Key'), value: optionalString(tag, 'Value') ?? '' };
  });
}

function nameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

export const stepFunctionsStateMachineProvisioner: Provisioner = {
  type: 'AWS::StepFunctions::StateMachine',
  attributes: ['Arn', 'Name', 'StateMachineRevisionId'],
  replacementProperties: ['StateMachineName', 'StateMachineType'],
  properties: PROPERTIES,
  requiredProperties: ['RoleArn'],

  async create(properties, ctx) {
    const type = optionalString(properties, 'StateMachineType');
    if (type !== undefined && type !== 'STANDARD' && type !== 'EXPRESS')
      throw invalidProperty(
        `Property validation failure: [#/StateMachineType: ${type} is not a valid enum value (STANDARD, EXPRESS)]`,
      );
    const name = optionalString(properties, 'StateMachineName') ?? ctx.generateName({ maxLength: 80 });
    const input: CreateStateMachineInput = {
      name,
      definition: await definitionOf(properties, ctx),
      roleArn: requiredString(properties, 'RoleArn'),
      ...configuration(properties),
      ...(type !== undefined ? { type } : {}),
    };
    const tags = tagsOf(properties);
    if (tags.length > 0) input.tags = tags;
    const sfn = sfnOf(ctx);
    let arn: string;
    try {
      arn = (await sfn.create(input)).stateMachineArn!;
    } catch (error) {
      throw serviceFailure(error, 'SFN');
    }
    const described = await sfn.describe({ stateMachineArn: arn });
    return {
      physicalId: arn,
      attributes: { Arn: arn, Name: name, StateMachineRevisionId: described.revisionId ?? arn },
    };
  },

  async update(physicalId, properties, _previous, ctx) {
    const sfn = sfnOf(ctx);
    try {
      await sfn.update({
        stateMachineArn: physicalId,
        definition: await definitionOf(properties, ctx),
        roleArn: requiredString(properties, 'RoleArn'),
        ...configuration(properties),
      });
      const described = await sfn.describe({ stateMachineArn: physicalId });
      return {
        attributes: {
          Arn: physicalId,
          Name: nameOf(physicalId),
          StateMachineRevisionId: described.revisionId ?? physicalId,
        },
      };
    } catch (error) {
      throw serviceFailure(error, 'SFN');
    }
  },

  async delete(physicalId, _properties, ctx) {
    try {
      await sfnOf(ctx).delete({ stateMachineArn: physicalId });
    } catch (error) {
      if (error instanceof AwsError && error.code === 'StateMachineDoesNotExist') return;
      throw serviceFailure(error, 'SFN');
    }
  },
};
