/**
 * The flow pipeline with the registry's application analyzers (see flow-pipeline-base.ts).
 * Callers that may run flows only (replay --no-app) use FlowPipelineBase and load the
 * registry themselves when analyzers are on.
 */
import { AppDispatcher } from '../app/app-dispatcher.js'
import { APP_ANALYZERS } from '../app/registry.js'
import { FlowTable } from '../flow/flow-table.js'
import { FlowPipelineBase, type FlowPipelineConfig, type FlowPipelineDeps } from './flow-pipeline-base.js'

export { CLOCK_STEP_BACK_S, DEFAULT_FLOW_PIPELINE_CONFIG, FlowPipelineBase, TICK_SLACK_S } from './flow-pipeline-base.js'
export type { FlowPipelineConfig, FlowPipelineDeps, FlowPipelineParts, PipelineCounter } from './flow-pipeline-base.js'

export class FlowPipeline extends FlowPipelineBase {
  constructor(cfg: Partial<FlowPipelineConfig>, deps: FlowPipelineDeps) {
    super(cfg, deps, APP_ANALYZERS, {
      makeTable: (c, emit) => new FlowTable(c, emit),
      makeDispatcher: (c, d) => new AppDispatcher(c, d),
    })
  }
}
