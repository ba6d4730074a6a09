// AWS::StepFunctions::StateMachine and AWS::Events::Rule on the local stack's CloudFormation: the
// usual Personalize tutorial's definition (Pass → CreateDatasetImportJob, catching
// ResourceAlreadyExistsException → Wait 1200 → CreateSolutionVersion → Wait → CreateBatchInferenceJob,
// catching ResourceInUseException) deployed unchanged as a DefinitionString `!Sub` with a variable
// map, run on the stack's scaled clock; a schedule rule targeting it; Definition objects with
// DefinitionSubstitutions, DefinitionS3Location, updates, and the failures a template can cause.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  UpdateStackCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { DescribeDatasetImportJobCommand, PersonalizeClient } from '@aws-sdk/client-personalize';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { settledStack, stackEvents } from '../helpers/cfn.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { history, waitExecution } from '../helpers/stepfunctions.js';

/** The tutorial's definition, as its template writes it: `${…}` filled by the !Sub variable map. */
const TUTORIAL = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  DataBucket:
    Type: String
Resources:
  DatasetGroup:
    Type: AWS::Personalize::DatasetGroup
    Properties:
      Name: tutorial-group
  Schema:
    Type: AWS::Personalize::Schema
    Properties:
      Name: tutorial-interactions
      Schema: '{"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema", "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}], "version": "1.0"}'
  Dataset:
    Type: AWS::Personalize::Dataset
    Properties:
      Name: tutorial-interactions
      DatasetType: Interactions
      DatasetGroupArn: !GetAtt DatasetGroup.DatasetGroupArn
      SchemaArn: !GetAtt Schema.SchemaArn
  PersonalizeStateMachine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: personalize-tutorial
      RoleArn: !Sub 'arn:aws:iam::\${AWS::AccountId}:role/StepFunctionsPersonalizeRole'
      DefinitionString: !Sub
        - |-
          {
            "Comment": "Import data, train a solution version, run batch inference",
            "StartAt": "Start",
            "States": {
              "Start": { "Type": "Pass", "Next": "Import Data" },
              "Import Data": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:personalize:createDatasetImportJob",
                "Parameters": {
                  "JobName": "\${ImportJobName}",
                  "DatasetArn": "\${DatasetArn}",
                  "DataSource": { "DataLocation": "s3://\${Bucket}/interactions.csv" },
                  "RoleArn": "\${PersonalizeRole}"
                },
                "Catch": [
                  { "ErrorEquals": ["Personalize.ResourceAlreadyExistsException"], "ResultPath": "$.importError", "Next": "Wait for Import" }
                ],
                "ResultPath": "$.import",
                "Next": "Wait for Import"
              },
              "Wait for Import": { "Type": "Wait", "Seconds": 1200, "Next": "Create Solution Version" },
              "Create Solution Version": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:personalize:createSolutionVersion",
                "Parameters": { "SolutionArn": "\${SolutionArn}", "TrainingMode": "FULL" },
                "ResultPath": "$.solutionVersion",
                "Next": "Wait for Training"
              },
              "Wait for Training": { "Type": "Wait", "Seconds": 3600, "Next": "Batch Inference" },
              "Batch Inference": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:personalize:createBatchInferenceJob",
                "Parameters": {
                  "JobName.$": "States.Format('batch-{}', $$.Execution.Name)",
                  "SolutionVersionArn.$": "$.solutionVersion.SolutionVersionArn",
                  "JobInput": { "S3DataSource": { "Path": "s3://\${Bucket}/batch/users.json" } },
                  "JobOutput": { "S3DataDestination": { "Path": "s3://\${Bucket}/batch/out/" } },
                  "RoleArn": "\${PersonalizeRole}"
                },
                "Catch": [ { "ErrorEquals": ["Personalize.ResourceInUseException"], "Next": "Done" } ],
                "Next": "Done"
              },
              "Done": { "Type": "Succeed" }
            }
          }
        - ImportJobName: tutorial-import
          DatasetArn: !GetAtt Dataset.DatasetArn
          Bucket: !Ref DataBucket
          PersonalizeRole: !Sub 'arn:aws:iam::\${AWS::AccountId}:role/PersonalizeRole'
          SolutionArn: !Sub 'arn:aws:personalize:\${AWS::Region}:\${AWS::AccountId}:solution/tutorial'
  WeeklyRetrain:
    Type: AWS::Events::Rule
    Properties:
      Description: Retrain every week
      ScheduleExpression: rate(7 days)
      State: ENABLED
      Targets:
        - Id: tutorial
          Arn: !Ref PersonalizeStateMachine
          RoleArn: !Sub 'arn:aws:iam::\${AWS::AccountId}:role/EventsInvokeStepFunctions'
          Input: '{"trigger": "weekly"}'
Outputs:
  StateMachineArn:
    Value: !Ref PersonalizeStateMachine
  StateMachineName:
    Value: !GetAtt PersonalizeStateMachine.Name
  StateMachineArnAttribute:
    Value: !GetAtt PersonalizeStateMachine.Arn
  RuleName:
    Value: !Ref WeeklyRetrain
  RuleArn:
    Value: !GetAtt WeeklyRetrain.Arn
`;

const BUCKET = 'tutorial-data';

function outputsOf(stack: Stack): Record<string, string> {
  return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
}

describe('CloudFormation AWS::StepFunctions::StateMachine and AWS::Events::Rule on the local stack', () => {
  let stack: TestStack;
  let cfn: CloudFormationClient;
  let sfn: SFNClient;

  before(async () => {
    stack = await startTestStack();
    cfn = new CloudFormationClient(sdkConfig(stack));
    sfn = new SFNClient(sdkConfig(stack));
    const s3 = new S3Client(sdkConfig(stack));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'interactions.csv',
        Body: 'USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1300000000\nu2,i2,1300000001\n',
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'defs/pass.yaml', Body: PASS_YAML }));
    s3.destroy();
  });
  after(async () => {
    await stack.stop();
  });

  /** Creates (or updates) a stack and waits for it to settle, failing with its first failure. */
  async function deploy(name: string, template: string, update = false): Promise<Stack> {
    await cfn.send(
      update
        ? new UpdateStackCommand({
            StackName: name,
            TemplateBody: template,
            Parameters: [{ ParameterKey: 'DataBucket', UsePreviousValue: true }],
          })
        : new CreateStackCommand({
            StackName: name,
            TemplateBody: template,
            ...(template.includes('DataBucket')
              ? { Parameters: [{ ParameterKey: 'DataBucket', ParameterValue: BUCKET }] }
              : {}),
          }),
    );
    return settledStack(cfn, name);
  }

  async function failureOf(name: string): Promise<string> {
    return (
      (await stackEvents(cfn, name)).find((e) => e.ResourceStatus?.endsWith('_FAILED'))
        ?.ResourceStatusReason ?? ''
    );
  }

  it('deploys the tutorial unchanged and runs it: the import, its Catch, the Waits on the clock, the calls into Personalize', async () => {
    const deployed = await deploy('tutorial', TUTORIAL);
    assert.equal(deployed.StackStatus, 'CREATE_COMPLETE', await failureOf('tutorial'));
    const outputs = outputsOf(deployed);
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:personalize-tutorial';
    assert.deepEqual(outputs, {
      StateMachineArn: arn,
      StateMachineName: 'personalize-tutorial',
      StateMachineArnAttribute: arn,
      RuleName: outputs.RuleName,
      RuleArn: `arn:aws:events:us-east-1:000000000000:rule/${outputs.RuleName}`,
    });
    assert.match(outputs.RuleName!, /^tutorial-WeeklyRetrain-[A-Z0-9]{12}$/);

    // The !Sub filled the definition; nothing else changed it.
    const machine = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    const definition = JSON.parse(machine.definition!) as {
      States: Record<string, { Parameters?: Record<string, unknown> }>;
    };
    assert.equal(machine.roleArn, 'arn:aws:iam::000000000000:role/StepFunctionsPersonalizeRole');
    const importParameters = definition.States['Import Data']!.Parameters!;
    assert.match(
      String(importParameters.DatasetArn),
      /^arn:aws:personalize:us-east-1:000000000000:dataset\//,
    );
    assert.deepEqual(importParameters, {
      JobName: 'tutorial-import',
      DatasetArn: importParameters.DatasetArn,
      DataSource: { DataLocation: `s3://${BUCKET}/interactions.csv` },
      RoleArn: 'arn:aws:iam::000000000000:role/PersonalizeRole',
    });

    // The rule targets the state machine with its Input.
    const events = new EventBridgeClient(sdkConfig(stack));
    const rule = await events.send(new DescribeRuleCommand({ Name: outputs.RuleName }));
    assert.deepEqual([rule.State, rule.ScheduleExpression], ['ENABLED', 'rate(7 days)']);
    assert.deepEqual((await events.send(new ListTargetsByRuleCommand({ Rule: outputs.RuleName }))).Targets, [
      {
        Id: 'tutorial',
        Arn: arn,
        RoleArn: 'arn:aws:iam::000000000000:role/EventsInvokeStepFunctions',
        Input: '{"trigger": "weekly"}',
      },
    ]);
    events.destroy();

    // First run: the import job is created, the 1200 s Wait passes on the scaled clock, and
    // CreateSolutionVersion reaches the local Personalize, which has no solution of that ARN.
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'first' }));
    const firstEnd = await waitExecution(sfn, first.executionArn!);
    assert.equal(firstEnd.status, 'FAILED');
    assert.equal(firstEnd.error, 'Personalize.ResourceNotFoundException');
    assert.match(
      firstEnd.cause!,
      /^Could not find resource with ARN arn:aws:personalize:us-east-1:000000000000:solution\/tutorial \(Service: Personalize, Status Code: 400/,
    );
    const firstHistory = await history(sfn, first.executionArn!);
    const entered = firstHistory
      .filter((e) => e.type!.endsWith('StateEntered'))
      .map((e) => e.stateEnteredEventDetails!.name);
    assert.deepEqual(entered, ['Start', 'Import Data', 'Wait for Import', 'Create Solution Version']);
    const imported = firstHistory.find((e) => e.type === 'TaskSucceeded')!;
    const jobArn = (
      JSON.parse(imported.taskSucceededEventDetails!.output!) as { DatasetImportJobArn: string }
    ).DatasetImportJobArn;
    const personalize = new PersonalizeClient(sdkConfig(stack));
    const job = await personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn: jobArn }));
    assert.equal(job.datasetImportJob!.jobName, 'tutorial-import');
    personalize.destroy();
    // Second run: the job name exists, the Catch takes ResourceAlreadyExistsException to the Wait.
    const second = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'second' }));
    const secondEnd = await waitExecution(sfn, second.executionArn!);
    assert.equal(secondEnd.error, 'Personalize.ResourceNotFoundException');
    const secondHistory = await history(sfn, second.executionArn!);
    const caught = secondHistory.find((e) => e.type === 'TaskFailed')!;
    assert.equal(caught.taskFailedEventDetails!.error, 'Personalize.ResourceAlreadyExistsException');
    assert.match(caught.taskFailedEventDetails!.cause!, /Dataset import job tutorial-import already exists/);
    assert.ok(
      secondHistory.some(
        (e) => e.type === 'WaitStateEntered' && e.stateEnteredEventDetails!.name === 'Wait for Import',
      ),
    );

    // Deleting the stack deletes the rule and the state machine.
    await cfn.send(new DeleteStackCommand({ StackName: 'tutorial' }));
    const deleted = await settledStack(cfn, deployed.StackId!);
    assert.equal(deleted.StackStatus, 'DELETE_COMPLETE', await failureOf(deployed.StackId!));
    const left = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines!.map((m) => m.name);
    assert.ok(!left.includes('personalize-tutorial'));
    const rules = new EventBridgeClient(sdkConfig(stack));
    await assert.rejects(rules.send(new DescribeRuleCommand({ Name: outputs.RuleName })), {
      name: 'ResourceNotFoundException',
    });
    rules.destroy();
  });

  it('takes Definition objects with DefinitionSubstitutions, DefinitionS3Location, updates in place, and refuses bad templates', async () => {
    const template = (greeting: string) => `Parameters:
  DataBucket:
    Type: String
Resources:
  Inline:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::000000000000:role/sfn
      Definition:
        StartAt: Hello
        States:
          Hello: { Type: Pass, Result: '\${Greeting}', End: true }
      DefinitionSubstitutions:
        Greeting: ${greeting}
  FromS3:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: from-s3
      RoleArn: arn:aws:iam::000000000000:role/sfn
      DefinitionS3Location:
        Bucket: !Ref DataBucket
        Key: defs/pass.yaml
      DefinitionSubstitutions:
        Answer: 42
Outputs:
  Inline:
    Value: !Ref Inline
`;
    const created = await deploy('defs', template('hello'));
    assert.equal(created.StackStatus, 'CREATE_COMPLETE', await failureOf('defs'));
    const inline = outputsOf(created).Inline!;
    assert.match(inline, /^arn:aws:states:us-east-1:000000000000:stateMachine:defs-Inline-[A-Z0-9]{12}$/);
    const run = async (stateMachineArn: string) =>
      (
        await waitExecution(
          sfn,
          (await sfn.send(new StartExecutionCommand({ stateMachineArn }))).executionArn!,
        )
      ).output;
    assert.equal(await run(inline), '"hello"');
    assert.equal(await run('arn:aws:states:us-east-1:000000000000:stateMachine:from-s3'), '{"answer":"42"}');

    // A changed substitution updates the same state machine in place.
    const updated = await deploy('defs', template('bonjour'), true);
    assert.equal(updated.StackStatus, 'UPDATE_COMPLETE', await failureOf('defs'));
    assert.equal(outputsOf(updated).Inline, inline);
    assert.equal(await run(inline), '"bonjour"');

    // Two definition sources, and an invalid definition, fail the resource saying why.
    const bad = await deploy(
      'bad-defs',
      `Resources:
  Both:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::000000000000:role/sfn
      Definition: { StartAt: A, States: { A: { Type: Pass, End: true } } }
      DefinitionString: '{}'
`,
    );
    assert.equal(bad.StackStatus, 'ROLLBACK_COMPLETE');
    assert.match(await failureOf('bad-defs'), /give only one of Definition, DefinitionString/);
    const invalid = await deploy(
      'invalid-def',
      `Resources:
  Broken:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::000000000000:role/sfn
      DefinitionString: '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}'
`,
    );
    assert.equal(invalid.StackStatus, 'ROLLBACK_COMPLETE');
    assert.match(await failureOf('invalid-def'), /MISSING_TRANSITION_TARGET/);
    const badRule = await deploy(
      'bad-rule',
      `Resources:
  Rule:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: cron(0 12 * * *)
`,
    );
    assert.equal(badRule.StackStatus, 'ROLLBACK_COMPLETE');
    assert.match(
      await failureOf('bad-rule'),
      /Parameter ScheduleExpression is not valid\. cron\(0 12 \* \* \*\) has 5 fields/,
    );
  });
});

const PASS_YAML = `StartAt: Answer
States:
  Answer:
    Type: Pass
    Result:
      answer: \${Answer}
    End: true
`;
