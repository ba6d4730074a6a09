// Personalize campaigns and Personalize Runtime in the local stack, driven by the real
// PersonalizeClient and PersonalizeRuntimeClient: the campaign lifecycle (create, describe, list,
// update with a new configuration, delete), minProvisionedTPS and itemExplorationConfig,
// GetRecommendations by userId (scores as the model gives them, unknown users popular items) and by
// itemId (aws-similar-items), numResults, GetPersonalizedRanking, what is refused and why, and a
// solution that cannot be deleted while a campaign serves it; the models campaigns serve are loaded
// when they provision and when the stack starts, never on a first request, and dropped with them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateCampaignCommand,
  DeleteCampaignCommand,
  DeleteSolutionCommand,
  DescribeCampaignCommand,
  ListCampaignsCommand,
  PersonalizeClient,
  UpdateCampaignCommand,
  type Campaign,
} from '@aws-sdk/client-personalize';
import {
  GetPersonalizedRankingCommand,
  GetRecommendationsCommand,
  PersonalizeRuntimeClient,
} from '@aws-sdk/client-personalize-runtime';
import { ManualClock } from '../../src/local/core/clock.js';
import type { Personalize } from '../../src/local/services/personalize/service.js';
import { rank, recommend, similarItems } from '../../src/recommender/index.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';
import { trainSolutionVersions, until, type Trained } from '../helpers/trained.js';

describe('Personalize campaigns and Personalize Runtime (local stack, SDK)', () => {
  let stack: TestStack;
  let personalize: PersonalizeClient;
  let runtime: PersonalizeRuntimeClient;
  let trained: Trained;
  const campaigns: Record<string, string> = {};
  // Time moves only between polls: what a request sees right after another is deterministic.
  const clock = new ManualClock();
  const tick = (): Promise<void> => clock.advance(5_000);

  before(async () => {
    stack = await startTestStack({ clock });
    personalize = new PersonalizeClient(sdkConfig(stack));
    runtime = new PersonalizeRuntimeClient(sdkConfig(stack));
    trained = await trainSolutionVersions(
      stack,
      ['aws-user-personalization', 'aws-popularity-count', 'aws-similar-items'],
      { tick },
    );
  });

  after(async () => {
    personalize?.destroy();
    runtime?.destroy();
    await stack?.stop();
  });

  function model(arn: string) {
    return stack.server.registry.instance<Personalize>('personalize').solutions.models.get(arn);
  }

  async function settled(campaignArn: string, done: (c: Campaign) => boolean): Promise<Campaign> {
    const r = await until(
      () => personalize.send(new DescribeCampaignCommand({ campaignArn })),
      (d) => done(d.campaign!),
      `campaign ${campaignArn}`,
      tick,
    );
    return r.campaign!;
  }

  async function campaign(name: string, solutionVersionArn: string, more: object = {}): Promise<string> {
    const { campaignArn } = await personalize.send(
      new CreateCampaignCommand({ name, solutionVersionArn, ...more }),
    );
    const c = await settled(campaignArn!, (c) => c.status === 'ACTIVE' || c.status === 'CREATE FAILED');
    assert.equal(c.status, 'ACTIVE', c.failureReason);
    return campaignArn!;
  }

  it('creates campaigns CREATE PENDING → ACTIVE with minProvisionedTPS and campaignConfig, and lists them', async () => {
    const version = trained.versions['aws-user-personalization']!;
    const { campaignArn } = await personalize.send(
      new CreateCampaignCommand({
        name: 'live',
        solutionVersionArn: version,
        minProvisionedTPS: 2,
        campaignConfig: {
          itemExplorationConfig: { explorationWeight: '0.1', explorationItemAgeCutOff: '20' },
        },
      }),
    );
    assert.equal(campaignArn, `arn:aws:personalize:us-east-1:${campaignArn!.split(':')[4]}:campaign/live`);
    const first = await personalize.send(new DescribeCampaignCommand({ campaignArn }));
    assert.equal(first.campaign?.status, 'CREATE PENDING');
    const active = await settled(campaignArn!, (c) => c.status === 'ACTIVE');
    assert.equal(active.minProvisionedTPS, 2);
    assert.equal(active.solutionVersionArn, version);
    assert.deepEqual(active.campaignConfig, {
      itemExplorationConfig: { explorationWeight: '0.1', explorationItemAgeCutOff: '20' },
    });
    assert.ok(active.creationDateTime instanceof Date);
    campaigns.live = campaignArn!;
    campaigns.pop = await campaign('pop', trained.versions['aws-popularity-count']!);
    campaigns.sims = await campaign('sims', trained.versions['aws-similar-items']!);
    const listed = await personalize.send(new ListCampaignsCommand({}));
    assert.deepEqual(
      listed.campaigns?.map((c) => [c.name, c.status]),
      [
        ['sims', 'ACTIVE'],
        ['pop', 'ACTIVE'],
        ['live', 'ACTIVE'],
      ],
    );
    const bySolution = await personalize.send(
      new ListCampaignsCommand({ solutionArn: trained.solutions['aws-popularity-count']! }),
    );
    assert.deepEqual(
      bySolution.campaigns?.map((c) => c.name),
      ['pop'],
    );
  });

  it('GetRecommendations: a user’s items and scores as the model ranks them with the campaign’s exploration; unknown users get popular items', async () => {
    const m = await model(trained.versions['aws-user-personalization']!);
    const r = await runtime.send(
      new GetRecommendationsCommand({ campaignArn: campaigns.live, userId: '1', numResults: 7 }),
    );
    const expected = recommend(m, {
      userId: '1',
      numResults: 7,
      explorationWeight: 0.1,
      explorationItemAgeCutOff: 20,
    });
    assert.deepEqual(
      r.itemList?.map((i) => i.itemId),
      expected.itemIds,
    );
    assert.deepEqual(
      r.itemList?.map((i) => i.score),
      expected.scores,
    );
    assert.match(r.recommendationId!, /^RID-[0-9a-f-]{36}$/);
    const byDefault = await runtime.send(
      new GetRecommendationsCommand({ campaignArn: campaigns.live, userId: '1' }),
    );
    assert.equal(byDefault.itemList?.length, 25);
    const stranger = await runtime.send(
      new GetRecommendationsCommand({ campaignArn: campaigns.live, userId: 'nobody', numResults: 5 }),
    );
    assert.deepEqual(
      stranger.itemList?.map((i) => i.itemId),
      recommend(m, { numResults: 5, explorationWeight: 0.1, explorationItemAgeCutOff: 20 }).itemIds,
    );
    const max = await runtime.send(
      new GetRecommendationsCommand({ campaignArn: campaigns.pop, userId: '1', numResults: 500 }),
    );
    assert.ok(max.itemList!.length > 25);
    assert.ok(max.itemList!.every((i) => i.score === undefined));
  });

  it('GetRecommendations by itemId from an aws-similar-items campaign; the wrong member for the recipe is refused', async () => {
    const item = trained.csv.split('\n')[1]!.split(',')[1]!;
    const r = await runtime.send(
      new GetRecommendationsCommand({ campaignArn: campaigns.sims, itemId: item, numResults: 5 }),
    );
    const expected = similarItems(await model(trained.versions['aws-similar-items']!), {
      itemId: item,
      numResults: 5,
    });
    assert.deepEqual(
      r.itemList,
      expected.itemIds.map((itemId) => ({ itemId })),
    );
    const noItem = await sdkError(
      runtime.send(new GetRecommendationsCommand({ campaignArn: campaigns.sims, userId: '1' })),
    );
    assert.equal(noItem.name, 'InvalidInputException');
    assert.match(noItem.message, /^itemId is required: campaign .* serves an aws-similar-items/);
    const noUser = await sdkError(
      runtime.send(new GetRecommendationsCommand({ campaignArn: campaigns.live, itemId: item })),
    );
    assert.equal(noUser.name, 'InvalidInputException');
    assert.match(noUser.message, /^userId is required: campaign .* serves a aws-user-personalization/);
  });

  it('GetPersonalizedRanking orders the given items for the user, unknown items last', async () => {
    const m = await model(trained.versions['aws-user-personalization']!);
    const items = recommend(m, { userId: '2', numResults: 6 }).itemIds.reverse();
    const r = await runtime.send(
      new GetPersonalizedRankingCommand({
        campaignArn: campaigns.live,
        userId: '2',
        inputList: [...items, 'no-such-item'],
      }),
    );
    const expected = rank(m, { userId: '2', itemList: [...items, 'no-such-item'] });
    assert.deepEqual(
      r.personalizedRanking?.map((i) => i.itemId),
      expected.itemIds,
    );
    assert.equal(r.personalizedRanking?.at(-1)?.itemId, 'no-such-item');
    const sims = await sdkError(
      runtime.send(
        new GetPersonalizedRankingCommand({ campaignArn: campaigns.sims, userId: '2', inputList: items }),
      ),
    );
    assert.equal(sims.name, 'InvalidInputException');
  });

  it('refuses what is not served, bad numResults, unknown and not-yet-active campaigns, with messages naming the member', async () => {
    const cases: [object, string, RegExp][] = [
      [
        {
          campaignArn: campaigns.live,
          userId: '1',
          filterArn: 'arn:aws:personalize:us-east-1:000000000000:filter/f',
        },
        'InvalidInputException',
        /^filterArn: filters are not served/,
      ],
      [
        { recommenderArn: 'arn:aws:personalize:us-east-1:000000000000:recommender/r', userId: '1' },
        'InvalidInputException',
        /^recommenderArn: recommenders/,
      ],
      [
        { campaignArn: campaigns.live, userId: '1', numResults: 501 },
        'InvalidInputException',
        /numResults must be a whole number from 1 to 500, got 501/,
      ],
      [{ userId: '1' }, 'InvalidInputException', /^campaignArn is required/],
      [
        { campaignArn: 'arn:aws:personalize:us-east-1:000000000000:campaign/none', userId: '1' },
        'ResourceNotFoundException',
        /campaign\/none/,
      ],
    ];
    for (const [input, name, message] of cases) {
      const e = await sdkError(runtime.send(new GetRecommendationsCommand(input)));
      assert.equal(e.name, name, JSON.stringify(input));
      assert.match(e.message, message);
    }
    const { campaignArn } = await personalize.send(
      new CreateCampaignCommand({
        name: 'young',
        solutionVersionArn: trained.versions['aws-popularity-count']!,
      }),
    );
    const young = await sdkError(runtime.send(new GetRecommendationsCommand({ campaignArn, userId: '1' })));
    assert.equal(young.name, 'ResourceNotFoundException');
    assert.match(
      young.message,
      /is in CREATE (PENDING|IN_PROGRESS) state; it serves recommendations once it is ACTIVE/,
    );
    const early = await sdkError(personalize.send(new DeleteCampaignCommand({ campaignArn })));
    assert.equal(early.name, 'ResourceInUseException');
    await settled(campaignArn!, (c) => c.status === 'ACTIVE');
    await personalize.send(new DeleteCampaignCommand({ campaignArn }));
    await until(
      () => personalize.send(new ListCampaignsCommand({})),
      (r) => !r.campaigns?.some((c) => c.campaignArn === campaignArn),
      'campaign young deleted',
      tick,
    );
    const exploration = await sdkError(
      personalize.send(
        new CreateCampaignCommand({
          name: 'pop-explore',
          solutionVersionArn: trained.versions['aws-popularity-count']!,
          campaignConfig: { itemExplorationConfig: { explorationWeight: '0.5' } },
        }),
      ),
    );
    assert.equal(exploration.name, 'InvalidInputException');
    assert.match(
      exploration.message,
      /itemExplorationConfig is for aws-user-personalization solution versions/,
    );
    const tps = await sdkError(
      personalize.send(
        new CreateCampaignCommand({
          name: 'zero',
          solutionVersionArn: trained.versions['aws-popularity-count']!,
          minProvisionedTPS: 0,
        }),
      ),
    );
    assert.equal(tps.name, 'InvalidInputException');
    const duplicate = await sdkError(
      personalize.send(
        new CreateCampaignCommand({
          name: 'live',
          solutionVersionArn: trained.versions['aws-popularity-count']!,
        }),
      ),
    );
    assert.equal(duplicate.name, 'ResourceAlreadyExistsException');
  });

  it('UpdateCampaign records latestCampaignUpdate and serves the new configuration once it is ACTIVE', async () => {
    await personalize.send(
      new UpdateCampaignCommand({
        campaignArn: campaigns.live,
        minProvisionedTPS: 3,
        campaignConfig: { itemExplorationConfig: { explorationWeight: '0' } },
      }),
    );
    const during = await personalize.send(new DescribeCampaignCommand({ campaignArn: campaigns.live }));
    assert.equal(during.campaign?.status, 'ACTIVE');
    assert.equal(during.campaign?.latestCampaignUpdate?.status, 'CREATE PENDING');
    assert.equal(during.campaign?.minProvisionedTPS, 2);
    const again = await sdkError(
      personalize.send(new UpdateCampaignCommand({ campaignArn: campaigns.live, minProvisionedTPS: 4 })),
    );
    assert.equal(again.name, 'ResourceInUseException');
    const done = await settled(campaigns.live!, (c) => c.latestCampaignUpdate?.status === 'ACTIVE');
    assert.equal(done.minProvisionedTPS, 3);
    assert.deepEqual(done.campaignConfig, { itemExplorationConfig: { explorationWeight: '0' } });
    const m = await model(trained.versions['aws-user-personalization']!);
    const r = await runtime.send(
      new GetRecommendationsCommand({ campaignArn: campaigns.live, userId: '1', numResults: 5 }),
    );
    assert.deepEqual(
      r.itemList?.map((i) => i.itemId),
      recommend(m, { userId: '1', numResults: 5, explorationWeight: 0 }).itemIds,
    );
  });

  it('a solution cannot be deleted while a campaign serves one of its versions', async () => {
    const e = await sdkError(
      personalize.send(new DeleteSolutionCommand({ solutionArn: trained.solutions['aws-similar-items']! })),
    );
    assert.equal(e.name, 'ResourceInUseException');
    assert.match(e.message, /campaign\/sims/);
    await personalize.send(new DeleteCampaignCommand({ campaignArn: campaigns.sims }));
    const deleting = await personalize.send(new DescribeCampaignCommand({ campaignArn: campaigns.sims }));
    assert.match(deleting.campaign!.status!, /^DELETE (PENDING|IN_PROGRESS)$/);
    await until(
      () => personalize.send(new ListCampaignsCommand({})),
      (r) => !r.campaigns?.some((c) => c.campaignArn === campaigns.sims),
      'campaign sims deleted',
      tick,
    );
    // No campaign serves the version any more: its model is dropped from the scoring thread.
    const served = stack.server.registry.instance<Personalize>('personalize').campaigns.servedVersions();
    assert.ok(!served.includes(trained.versions['aws-similar-items']!), served.join(', '));
    assert.ok(served.includes(trained.versions['aws-user-personalization']!), served.join(', '));
    await personalize.send(
      new DeleteSolutionCommand({ solutionArn: trained.solutions['aws-similar-items']! }),
    );
  });

  it('a restart loads the models of ACTIVE campaigns as the stack starts, before any request', async () => {
    const { campaign: before } = await personalize.send(
      new DescribeCampaignCommand({ campaignArn: campaigns.live }),
    );
    const version = before!.solutionVersionArn!;
    const dataDir = stack.dataDir;
    personalize.destroy();
    runtime.destroy();
    await stack.stop({ keepData: true });
    stack = await startTestStack({ dataDir, clock });
    personalize = new PersonalizeClient(sdkConfig(stack));
    runtime = new PersonalizeRuntimeClient(sdkConfig(stack));
    const opened = stack.server.registry.instance<Personalize>('personalize').campaigns;
    await opened.startupLoads;
    assert.ok(opened.servedVersions().includes(version), opened.servedVersions().join(', '));
    assert.equal(stack.server.stats().personalize!.campaignModels, opened.servedVersions().length);
    const r = await runtime.send(
      new GetRecommendationsCommand({ campaignArn: campaigns.live, userId: '2', numResults: 4 }),
    );
    const c = (await personalize.send(new DescribeCampaignCommand({ campaignArn: campaigns.live })))
      .campaign!;
    const exploration = c.campaignConfig?.itemExplorationConfig ?? {};
    const expected = recommend(await model(version), {
      userId: '2',
      numResults: 4,
      ...(exploration.explorationWeight === undefined
        ? {}
        : { explorationWeight: Number(exploration.explorationWeight) }),
      ...(exploration.explorationItemAgeCutOff === undefined
        ? {}
        : { explorationItemAgeCutOff: Number(exploration.explorationItemAgeCutOff) }),
    });
    assert.deepEqual(
      r.itemList?.map((i) => [i.itemId, i.score]),
      expected.itemIds.map((id, n) => [id, expected.scores![n]]),
    );
  });
});
