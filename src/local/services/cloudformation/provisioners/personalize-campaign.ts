/**
 * `AWS::Personalize::Campaign`: creates the campaign through the local Personalize service and, as
 * AWS's handler does, returns once it is ACTIVE (CREATE FAILED fails the resource with its reason).
 * Name is create-only (a change replaces the campaign); SolutionVersionArn, MinProvisionedTPS and
 * CampaignConfig (ItemExplorationConfig as a Map of String, EnableMetadataWithRecommendations,
 * SyncWithLatestSolutionVersion) update in place with UpdateCampaign, waiting for the update to be
 * ACTIVE. Ref and `CampaignArn` are the campaign's ARN. Deleting waits for the campaign to be gone;
 * one already gone counts as deleted. On AWS a campaign is billed for every hour it exists.
 */
import { AwsError } from '../../../core/errors.js';
import { isTemplateObject, type TemplateObject, type TemplateValue } from '../template/index.js';
import {
  isNotFound,
  POLL_INTERVAL_MS,
  sleep,
  STABILIZE_TIMEOUT_MS,
  waitUntilActive,
  type StatusView,
} from './personalize-common.js';
import {
  invalidProperty,
  optionalBoolean,
  ProvisionError,
  requiredString,
  serviceCall,
  serviceFailure,
  typeName,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

const PROPERTIES = ['Name', 'SolutionVersionArn', 'MinProvisionedTPS', 'CampaignConfig', 'Tags'];

type Call = (input: object) => Promise<Record<string, unknown>>;

function calls(ctx: ProvisionContext): Record<string, Call> {
  const call = (operation: string): Call =>
    serviceCall<object, Record<string, unknown>>(ctx, 'personalize', 'Personalize', operation);
  return {
    create: call('CreateCampaign'),
    describe: call('DescribeCampaign'),
    update: call('UpdateCampaign'),
    remove: call('DeleteCampaign'),
  };
}

function minTps(properties: TemplateObject): number | undefined {
  const value = properties.MinProvisionedTPS;
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw invalidProperty(
      `Property validation failure: [#/MinProvisionedTPS: expected type: Integer, found: ${typeName(value)}]`,
    );
  return n;
}

/** CampaignConfig → CreateCampaign's campaignConfig (extraneous keys refused). */
function campaignConfig(properties: TemplateObject): Record<string, unknown> | undefined {
  const value: TemplateValue | undefined = properties.CampaignConfig;
  if (value === undefined || value === null) return undefined;
  if (!isTemplateObject(value))
    throw invalidProperty(
      `Property validation failure: [#/CampaignConfig: expected type: JSONObject, found: ${typeName(value)}]`,
    );
  const keys = [
    'ItemExplorationConfig',
    'EnableMetadataWithRecommendations',
    'SyncWithLatestSolutionVersion',
  ];
  const extraneous = Object.keys(value).filter((key) => !keys.includes(key));
  if (extraneous.length > 0)
    throw invalidProperty(
      `Property validation failure: [${extraneous.map((key) => `#/CampaignConfig: extraneous key [${key}] is not permitted`).join(', ')}]`,
    );
  const out: Record<string, unknown> = {};
  const exploration = value.ItemExplorationConfig;
  if (exploration !== undefined && exploration !== null) {
    if (!isTemplateObject(exploration))
      throw invalidProperty(
        `Property validation failure: [#/CampaignConfig/ItemExplorationConfig: expected type: JSONObject, found: ${typeName(exploration)}]`,
      );
    out.itemExplorationConfig = Object.fromEntries(
      Object.entries(exploration).map(([key, item]) => [key, String(item)]),
    );
  }
  const metadata = optionalBoolean(value, 'EnableMetadataWithRecommendations');
  if (metadata !== undefined) out.enableMetadataWithRecommendations = metadata;
  const sync = optionalBoolean(value, 'SyncWithLatestSolutionVersion');
  if (sync !== undefined) out.syncWithLatestSolutionVersion = sync;
  return out;
}

async function describe(ctx: ProvisionContext, campaignArn: string): Promise<Record<string, unknown>> {
  const { campaign } = await calls(ctx).describe!({ campaignArn });
  return campaign as Record<string, unknown>;
}

export const personalizeCampaignProvisioner: Provisioner = {
  type: 'AWS::Personalize::Campaign',
  attributes: ['CampaignArn'],
  replacementProperties: ['Name'],
  properties: PROPERTIES,
  requiredProperties: ['Name', 'SolutionVersionArn'],

  async create(properties, ctx) {
    const name = requiredString(properties, 'Name');
    const tps = minTps(properties);
    const config = campaignConfig(properties);
    const input = {
      name,
      solutionVersionArn: requiredString(properties, 'SolutionVersionArn'),
      ...(tps === undefined ? {} : { minProvisionedTPS: tps }),
      ...(config === undefined ? {} : { campaignConfig: config }),
    };
    let campaignArn: string;
    try {
      campaignArn = (await calls(ctx).create!(input)).campaignArn as string;
    } catch (error) {
      throw serviceFailure(error, 'Personalize');
    }
    await waitUntilActive(
      ctx,
      `Campaign ${name}`,
      async () => (await describe(ctx, campaignArn)) as StatusView,
    );
    return { physicalId: campaignArn, attributes: { CampaignArn: campaignArn } };
  },

  async update(physicalId, properties, _previous, ctx) {
    const tps = minTps(properties);
    const config = campaignConfig(properties);
    try {
      await calls(ctx).update!({
        campaignArn: physicalId,
        solutionVersionArn: requiredString(properties, 'SolutionVersionArn'),
        minProvisionedTPS: tps ?? 1,
        ...(config === undefined ? {} : { campaignConfig: config }),
      });
    } catch (error) {
      throw serviceFailure(error, 'Personalize');
    }
    await waitUntilActive(ctx, `Campaign update of ${physicalId}`, async () => {
      const update = (await describe(ctx, physicalId)).latestCampaignUpdate as StatusView | undefined;
      return update ?? { status: 'ACTIVE' };
    });
    return { attributes: { CampaignArn: physicalId } };
  },

  async delete(physicalId, _properties, ctx) {
    const deadline = Date.now() + STABILIZE_TIMEOUT_MS;
    for (;;) {
      try {
        await calls(ctx).remove!({ campaignArn: physicalId });
        break;
      } catch (error) {
        if (isNotFound(error)) return;
        // A campaign still being created (or updated) cannot be deleted yet.
        if (error instanceof AwsError && error.code === 'ResourceInUseException' && Date.now() < deadline) {
          await sleep(ctx, POLL_INTERVAL_MS);
          continue;
        }
        throw serviceFailure(error, 'Personalize');
      }
    }
    for (;;) {
      try {
        await describe(ctx, physicalId);
      } catch (error) {
        if (isNotFound(error)) return;
        throw serviceFailure(error, 'Personalize');
      }
      if (Date.now() >= deadline)
        throw new ProvisionError(
          `Campaign ${physicalId} was not deleted within ${STABILIZE_TIMEOUT_MS / 1000} seconds.`,
          'NotStabilized',
        );
      await sleep(ctx, POLL_INTERVAL_MS);
    }
  },
};
