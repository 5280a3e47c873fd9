import { resetResults } from './fault-results';

/** The fault suite starts its own brokers (it kills them); here it only starts a fresh table. */
export default function faultsGlobalSetup(): void {
  resetResults();
}
