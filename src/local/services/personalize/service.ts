/**
 * Personalize as the services list declares it: AWS JSON 1.1, `AmazonPersonalize`; imports and
 * batch inference read S3 (batch inference writes it too). The opened service is its data
 * resources, its training resources, batch inference jobs and campaigns; other services reach
 * trained models through `solutions.models` and campaigns' recommendations through `campaigns`
 * (`ctx.service<Personalize>('personalize')`, as Personalize Runtime does).
 */
import { defineService } from '../../core/service.js';
import { BatchInferenceJobs } from './batch-inference.js';
import { Campaigns } from './campaigns.js';
import { PersonalizeService } from './dataset-resources.js';
import { SolutionResources } from './solutions.js';
import { personalizeOperations } from './wire.js';

/** The opened Personalize service. */
export interface Personalize {
  /** Dataset groups, schemas, datasets and import jobs. */
  readonly datasets: PersonalizeService;
  /** Solutions, solution versions, recipes, and the trained models (`solutions.models.get(arn)`). */
  readonly solutions: SolutionResources;
  /** Batch inference jobs. */
  readonly batch: BatchInferenceJobs;
  /** Campaigns, and the recommendations they serve (what Personalize Runtime calls). */
  readonly campaigns: Campaigns;
}

export const personalizeService = defineService<Personalize>({
  name: 'personalize',
  displayName: 'Personalize',
  signingName: 'personalize',
  protocol: { kind: 'json', version: '1.1', targetPrefix: 'AmazonPersonalize' },
  dependsOn: ['s3'],
  open: async (ctx) => {
    const datasets = await PersonalizeService.open(ctx);
    const solutions = await SolutionResources.open(ctx, datasets);
    const batch = await BatchInferenceJobs.open(ctx, solutions);
    const campaigns = await Campaigns.open(ctx, solutions);
    solutions.addVersionUser((arns) => {
      const users = [...campaigns.using(arns), ...batch.inFlightFor(arns)];
      return users.length === 0
        ? undefined
        : `delete or wait for what uses its solution versions first: ${users.join(', ')}`;
    });
    return { datasets, solutions, batch, campaigns };
  },
  operations: (p) => personalizeOperations(p),
  close: async ({ datasets, solutions, batch, campaigns }) => {
    await campaigns.close();
    await batch.close();
    await solutions.close();
    await datasets.close();
  },
  stats: ({ datasets, solutions, batch, campaigns }) => ({
    ...datasets.stats(),
    ...solutions.stats(),
    ...batch.stats(),
    ...campaigns.stats(),
  }),
});
