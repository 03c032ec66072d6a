import type { App } from '../app.js';
import { registerAudit } from './audit.js';
import { registerConsents } from './consents.js';
import { registerFhir } from './fhir.js';
import { registerMatch } from './match.js';
import { registerLinkageJobs } from './linkage-jobs.js';
import { registerMappings } from './mappings.js';
import { registerModels } from './models.js';
import { registerDatasets } from './datasets.js';
import { registerHealth } from './health.js';
import { registerKeys } from './keys.js';
import { registerPartners } from './partners.js';
import { registerStandards } from './standards.js';

export function registerRoutes(app: App): void {
  registerHealth(app);
  registerConsents(app);
  registerPartners(app);
  registerKeys(app);
  registerStandards(app);
  registerDatasets(app);
  registerMappings(app);
  registerMatch(app);
  registerFhir(app);
  registerLinkageJobs(app);
  registerModels(app);
  registerAudit(app);
}
