/**
 * Personalize as the services list declares it: AWS JSON 1.1, `AmazonPersonalize`; imports read
 * S3. The opened service is its data resources and its training resources; other services reach
 * trained models through `solutions.models` (`ctx.service<Personalize>('personalize')`).
 */
import { defineService } from '../../core/service.js';
import { PersonalizeService } from './dataset-resources.js';
import { SolutionResources } from './solutions.js';
import { personalizeOperations } from './wire.js';

/** The opened Personalize service. */
export interface Personalize {
  /** Dataset groups, schemas, datasets and import jobs. */
  readonly datasets: PersonalizeService;
  /** Solutions, solution versions, recipes, and the trained models (`solutions.models.get(arn)`). */
  readonly solutions: SolutionResources;
}

export const personalizeService = defineService<Personalize>({
  name: 'personalize',
  displayName: 'Personalize',
  signingName: 'personalize',
  protocol: { kind: 'json', version: '1.1', targetPrefix: 'AmazonPersonalize' },
  dependsOn: ['s3'],
  open: async (ctx) => {
    const datasets = await PersonalizeService.open(ctx);
    return { datasets, solutions: await SolutionResources.open(ctx, datasets) };
  },
  operations: ({ datasets, solutions }) => personalizeOperations(datasets, solutions),
  close: async ({ datasets, solutions }) => {
    await solutions.close();
    await datasets.close();
  },
  stats: ({ datasets, solutions }) => ({ ...datasets.stats(), ...solutions.stats() }),
});
