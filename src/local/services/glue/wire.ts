/**
 * Glue's AWS operations (`AWSGlue.*`): each AWS-shaped request goes to the `GlueService` call that
 * reads and checks its members. Typed with @aws-sdk/client-glue's request and response types.
 */
import type {
  BatchStopJobRunRequest,
  BatchStopJobRunResponse,
  CreateJobRequest,
  CreateJobResponse,
  DeleteJobRequest,
  DeleteJobResponse,
  GetJobRequest,
  GetJobRunRequest,
  GetJobRunsRequest,
  GetJobsRequest,
  StartJobRunRequest,
  StartJobRunResponse,
  UpdateJobRequest,
  UpdateJobResponse,
} from '@aws-sdk/client-glue';
import { members } from '../../core/json-input.js';
import type { OperationTable } from '../../core/service.js';
import type { GlueService } from './glue-jobs.js';

export function glueOperations(glue: GlueService): OperationTable {
  return {
    CreateJob: (input: CreateJobRequest): Promise<CreateJobResponse> => glue.createJob(members(input)),
    GetJob: (input: GetJobRequest) => glue.getJob(members(input)),
    GetJobs: (input: GetJobsRequest) => glue.getJobs(members(input)),
    UpdateJob: (input: UpdateJobRequest): Promise<UpdateJobResponse> => glue.updateJob(members(input)),
    DeleteJob: (input: DeleteJobRequest): Promise<DeleteJobResponse> => glue.deleteJob(members(input)),
    StartJobRun: (input: StartJobRunRequest): Promise<StartJobRunResponse> =>
      glue.startJobRun(members(input)),
    GetJobRun: (input: GetJobRunRequest) => glue.getJobRun(members(input)),
    GetJobRuns: (input: GetJobRunsRequest) => glue.getJobRuns(members(input)),
    BatchStopJobRun: (input: BatchStopJobRunRequest): Promise<BatchStopJobRunResponse> =>
      glue.batchStopJobRun(members(input)),
  };
}
