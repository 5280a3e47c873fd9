// Imported first by main.ts: OpenTelemetry must patch http and kafkajs before they are loaded.
import { startTelemetry } from '@tributary/telemetry';

startTelemetry({ serviceName: 'operator' });
