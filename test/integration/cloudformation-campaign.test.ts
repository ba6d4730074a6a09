// AWS::Personalize::Campaign on the local stack's CloudFormation: a stack with a campaign of a
// trained solution version creates it ACTIVE (Ref and GetAtt CampaignArn), an update of
// MinProvisionedTPS goes through UpdateCampaign in place, a stack deletion removes the campaign.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeCampaignCommand,
  ListCampaignsCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { describeStack, settledStack } from '../helpers/cfn.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { trainSolutionVersions, type Trained } from '../helpers/trained.js';

const TEMPLATE = `
Parameters:
  Version: {Type: String}
  Tps: {Type: Number, Default: 1}
Resources:
  Campaign:
    Type: AWS::Personalize::Campaign
    Properties:
      Name: cfn-campaign
      SolutionVersionArn: !Ref Version
      MinProvisionedTPS: !Ref Tps
      CampaignConfig:
        ItemExplorationConfig:
          explorationWeight: 0.2
Outputs:
  Ref: {Value: !Ref Campaign}
  Arn: {Value: !GetAtt Campaign.CampaignArn}
`;

describe('CloudFormation AWS::Personalize::Campaign on the local stack', () => {
  let stack: TestStack;
  let cfn: CloudFormationClient;
  let personalize: PersonalizeClient;
  let trained: Trained;

  before(async () => {
    stack = await startTestStack();
    cfn = new CloudFormationClient(sdkConfig(stack));
    personalize = new PersonalizeClient(sdkConfig(stack));
    trained = await trainSolutionVersions(stack, ['aws-user-personalization']);
  });

  after(async () => {
    cfn?.destroy();
    personalize?.destroy();
    await stack?.stop();
  });

  it('creates the campaign ACTIVE, updates it in place, deletes it with the stack', async () => {
    const Parameters = (tps: string) => [
      { ParameterKey: 'Version', ParameterValue: trained.versions['aws-user-personalization']! },
      { ParameterKey: 'Tps', ParameterValue: tps },
    ];
    await cfn.send(
      new CreateStackCommand({ StackName: 'campaign', TemplateBody: TEMPLATE, Parameters: Parameters('1') }),
    );
    const created = await settledStack(cfn, 'campaign');
    assert.equal(created.StackStatus, 'CREATE_COMPLETE', created.StackStatusReason);
    const outputs = Object.fromEntries((created.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    assert.match(outputs.Ref!, /:campaign\/cfn-campaign$/);
    assert.equal(outputs.Arn, outputs.Ref);
    const first = await personalize.send(new DescribeCampaignCommand({ campaignArn: outputs.Ref }));
    assert.equal(first.campaign?.status, 'ACTIVE');
    assert.deepEqual(first.campaign?.campaignConfig, { itemExplorationConfig: { explorationWeight: '0.2' } });

    await cfn.send(
      new UpdateStackCommand({ StackName: 'campaign', TemplateBody: TEMPLATE, Parameters: Parameters('3') }),
    );
    const updated = await settledStack(cfn, 'campaign');
    assert.equal(updated.StackStatus, 'UPDATE_COMPLETE', updated.StackStatusReason);
    const second = await personalize.send(new DescribeCampaignCommand({ campaignArn: outputs.Ref }));
    assert.equal(second.campaign?.minProvisionedTPS, 3);
    assert.equal(second.campaign?.campaignArn, outputs.Ref);

    const { StackId } = await describeStack(cfn, 'campaign');
    await cfn.send(new DeleteStackCommand({ StackName: 'campaign' }));
    const deleted = await settledStack(cfn, StackId!);
    assert.equal(deleted.StackStatus, 'DELETE_COMPLETE', deleted.StackStatusReason);
    const left = await personalize.send(new ListCampaignsCommand({}));
    assert.deepEqual(left.campaigns, []);
  });
});
