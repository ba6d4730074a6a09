/**
 * `AWS::Events::Rule`: creates, updates and deletes the rule and its targets through the local
 * EventBridge service (PutRule, PutTargets, RemoveTargets, DeleteRule). `EventPattern` may be an
 * object in the template (it is sent as JSON text); `Targets` take `Id`, `Arn`, `RoleArn` and
 * `Input`. Ref is the rule's name and `Arn` its ARN; `Name` and `EventBusName` are replacement
 * properties. A name is generated when absent.
 */
import type { PutRuleRequest, PutRuleResponse, Target } from '@aws-sdk/client-eventbridge';
import { AwsError } from '../../../core/errors.js';
import { isTemplateObject, type TemplateObject } from '../template/index.js';
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
  'Name',
  'Description',
  'EventBusName',
  'EventPattern',
  'ScheduleExpression',
  'State',
  'RoleArn',
  'Targets',
];

function eventsOf(ctx: ProvisionContext) {
  const call = <I extends object, O = unknown>(operation: string) =>
    serviceCall<I, O>(ctx, 'eventbridge', 'EventBridge', operation);
  return {
    putRule: call<PutRuleRequest, PutRuleResponse>('PutRule'),
    putTargets: call<{ Rule: string; Targets: Target[] }>('PutTargets'),
    removeTargets: call<{ Rule: string; Ids: string[] }>('RemoveTargets'),
    deleteRule: call<{ Name: string }>('DeleteRule'),
    listTargets: call<{ Rule: string }, { Targets?: Target[] }>('ListTargetsByRule'),
  };
}

function ruleInput(name: string, properties: TemplateObject): PutRuleRequest {
  const input: PutRuleRequest = { Name: name };
  for (const member of ['Description', 'EventBusName', 'ScheduleExpression', 'State', 'RoleArn'] as const) {
    const value = optionalString(properties, member);
    if (value !== undefined) input[member] = value as never;
  }
  const pattern = properties.EventPattern;
  if (pattern !== undefined && pattern !== null)
    input.EventPattern = typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
  if (input.ScheduleExpression === undefined && input.EventPattern === undefined)
    throw invalidProperty(
      'Property validation failure: the rule needs a ScheduleExpression or an EventPattern.',
    );
  return input;
}

function targetsOf(properties: TemplateObject): Target[] {
  const targets = properties.Targets;
  if (targets === undefined || targets === null) return [];
  if (!Array.isArray(targets))
    throw invalidProperty(
      `Property validation failure: [#/Targets: expected type: JSONArray, found: ${typeName(targets)}]`,
    );
  return targets.map((target, i) => {
    if (!isTemplateObject(target))
      throw invalidProperty(`Property validation failure: [#/Targets/${i}: expected type: JSONObject]`);
    const out: Target = { Id: requiredString(target, 'Id'), Arn: requiredString(target, 'Arn') };
    const roleArn = optionalString(target, 'RoleArn');
    if (roleArn !== undefined) out.RoleArn = roleArn;
    const input = optionalString(target, 'Input');
    if (input !== undefined) out.Input = input;
    for (const member of Object.keys(target))
      if (!['Id', 'Arn', 'RoleArn', 'Input'].includes(member))
        throw invalidProperty(
          `Property validation failure: [#/Targets/${i}/${member}: not supported locally (targets take Id, Arn, RoleArn and Input)]`,
        );
    return out;
  });
}

async function putAll(
  ctx: ProvisionContext,
  name: string,
  properties: TemplateObject,
  previous?: TemplateObject,
) {
  const events = eventsOf(ctx);
  const targets = targetsOf(properties);
  const { RuleArn } = await events.putRule(ruleInput(name, properties));
  const gone =
    previous === undefined ? [] : targetsOf(previous).filter((t) => !targets.some((n) => n.Id === t.Id));
  if (gone.length > 0) await events.removeTargets({ Rule: name, Ids: gone.map((t) => t.Id!) });
  if (targets.length > 0) await events.putTargets({ Rule: name, Targets: targets });
  return RuleArn!;
}

export const eventsRuleProvisioner: Provisioner = {
  type: 'AWS::Events::Rule',
  attributes: ['Arn'],
  replacementProperties: ['Name', 'EventBusName'],
  properties: PROPERTIES,

  async create(properties, ctx) {
    const name = optionalString(properties, 'Name') ?? ctx.generateName({ maxLength: 64 });
    let arn: string;
    try {
      arn = await putAll(ctx, name, properties);
    } catch (error) {
      // Nothing half-made stays behind: the rule goes when its targets fail.
      await eventsOf(ctx)
        .deleteRule({ Name: name })
        .catch(() => undefined);
      throw serviceFailure(error, 'EventBridge');
    }
    return { physicalId: name, attributes: { Arn: arn } };
  },

  async update(physicalId, properties, previous, ctx) {
    try {
      const arn = await putAll(ctx, physicalId, properties, previous.properties);
      return { attributes: { Arn: arn } };
    } catch (error) {
      throw serviceFailure(error, 'EventBridge');
    }
  },

  async delete(physicalId, _properties, ctx) {
    const events = eventsOf(ctx);
    try {
      // Every target goes first, also ones added outside the template, as CloudFormation does.
      const ids = ((await events.listTargets({ Rule: physicalId })).Targets ?? []).map((t) => t.Id!);
      if (ids.length > 0) await events.removeTargets({ Rule: physicalId, Ids: ids });
      await events.deleteRule({ Name: physicalId });
    } catch (error) {
      if (error instanceof AwsError && error.code === 'ResourceNotFoundException') return;
      throw serviceFailure(error, 'EventBridge');
    }
  },
};
