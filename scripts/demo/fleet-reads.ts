/**
 * @module demo/fleet-reads
 * What the demo reads from the fleet server, all through its REST API as an operator's tool
 * would: loop runs, incidents, the version each car runs, live error, metric series and
 * histograms, rollouts. Answers are checked against the REST contract (the typed client does it
 * for every route).
 */
import { createRestClient } from '@edgeloop/protocol/client';
import type {
  AlertView,
  HistogramResponse,
  IncidentView,
  LoopRun,
  RolloutDetail,
  SeriesPoint,
} from '@edgeloop/protocol/rest';

export interface LiveMae {
  mae: number | null;
  n: number;
}

export class FleetReads {
  private readonly client;

  constructor(
    readonly httpUrl: string,
    token: string,
    readonly model = 'distance',
  ) {
    this.client = createRestClient({ baseUrl: httpUrl, headers: { authorization: `Bearer ${token}` } });
  }

  /** The model's loop runs, newest first. */
  async loopRuns(): Promise<LoopRun[]> {
    return (await this.client.listLoopRuns({ query: { model: this.model, limit: 100 } })).runs;
  }

  async alerts(): Promise<AlertView[]> {
    return (await this.client.listAlerts({ query: { model: this.model, limit: 1000 } })).alerts;
  }

  async incidents(): Promise<IncidentView[]> {
    return (await this.client.listIncidents({ query: { model: this.model, limit: 1000 } })).incidents;
  }

  /** Device id → the version of the model it runs (as it last reported), for the given devices. */
  async runningVersions(deviceIds: readonly string[]): Promise<Map<string, number | null>> {
    const { devices } = await this.client.listDevices();
    const byId = new Map(devices.map((d) => [d.id, d]));
    return new Map(
      deviceIds.map((id) => [id, byId.get(id)?.models.find((m) => m.name === this.model)?.version ?? null]),
    );
  }

  /** Live MAE of a version's served records made after `since` (simulated epoch ms). */
  async liveMae(version: number, since: number): Promise<LiveMae> {
    const { errors } = await this.client.liveError({
      query: { model: this.model, version, shadow: false, since: Math.round(since) },
    });
    const e = errors.find((x) => x.version === version && !x.shadow);
    return { mae: e?.mae ?? null, n: e?.n ?? 0 };
  }

  async series(version: number, metric: string, from: number, to: number): Promise<SeriesPoint[]> {
    const answer = await this.client.metricSeries({
      query: { model: this.model, version, metric, scope: 'fleet', from: Math.floor(from), to: Math.ceil(to) },
    });
    return answer.points;
  }

  async histograms(
    version: number,
    quantity: 'output' | 'reference',
    from: number,
    to: number,
  ): Promise<HistogramResponse> {
    return this.client.histograms({
      query: { model: this.model, version, quantity, scope: 'fleet', from: Math.floor(from), to: Math.ceil(to) },
    });
  }

  async rollout(id: string): Promise<RolloutDetail> {
    return this.client.getRollout({ params: { id } });
  }
}
