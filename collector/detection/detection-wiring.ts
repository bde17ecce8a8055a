/**
 * Wires issue 7 into the collector app (called once by buildApp): threat intel, the alert
 * manager and its webhooks, the detection service fed by ingest's after-durable-write hook,
 * and the alert / intel / policy API plugins. Started when the store is open (onReady),
 * stopped in reverse before the store closes (preClose).
 */
import type { FastifyInstance } from 'fastify'
import { AlertManager } from '../alerts/alert-manager.js'
import { alertsPlugin } from '../alerts/alerts-plugin.js'
import type { AlertsConfig } from '../alerts/alerts-config.js'
import { WebhookSender } from '../alerts/webhook-sender.js'
import { intelPlugin } from '../intel/intel-plugin.js'
import type { IntelConfigSection } from '../intel/intel-config.js'
import { IntelService } from '../intel/intel-service.js'
import type { PolicyConfig } from '../policy/policy-config.js'
import { policyPlugin } from '../policy/policy-plugin.js'
import type { CollectorStore } from '../storage/index.js'
import type { Logger } from '../util/logger.js'
import type { DetectionConfig } from './detection-config.js'
import { DetectionService, type DetectionInput } from './detection-service.js'
import { DetectorStateKeeper } from './detector-state-keeper.js'

export interface DetectionWiringConfig {
  detection: DetectionConfig
  alerts: AlertsConfig
  intel: IntelConfigSection
  policy: PolicyConfig
}

/** The hook ingest offers: a listener called after each batch is durable. */
export interface StoredBatchSource { onStored(fn: (b: DetectionInput) => void | Promise<void>): void }

export interface DetectionWiring {
  alerts: AlertManager
  detection: DetectionService
  /** Saves and restores what the detectors learned (detection.state_save_interval_s). */
  learning: DetectorStateKeeper
  intel: IntelService
  webhooks: WebhookSender
}

export function wireDetection(app: FastifyInstance, cfg: DetectionWiringConfig, store: CollectorStore, ingest: StoredBatchSource, log: Logger): DetectionWiring {
  const intel = new IntelService({ files: cfg.intel.files, reloadIntervalS: cfg.intel.reload_interval_s, maxFeeds: cfg.intel.max_feeds }, store.intelFeeds, log.child({ component: 'intel' }))
  const alerts = new AlertManager(cfg.alerts, store)
  const webhooks = new WebhookSender(cfg.alerts, log.child({ component: 'webhooks' }))
  const detection = new DetectionService(cfg.detection, alerts, { intel, policy: cfg.policy }, log.child({ component: 'detection' }), store)
  const learning = new DetectorStateKeeper({ intervalS: cfg.detection.state_save_interval_s }, store, detection, log.child({ component: 'detector-state' }))
  alerts.events.on('alert', (ev) => webhooks.onAlert(ev))
  ingest.onStored((b) => detection.enqueue(b))

  app.addHook('onReady', async () => {
    await alerts.start()
    await intel.start()
    webhooks.start()
    // Restored before the first batch is taken; then the batches stored since the save are read back.
    detection.start(await learning.start())
  })
  // preClose: before the store closes (buildApp closes it in onClose).
  app.addHook('preClose', async () => {
    await detection.stop()
    await learning.stop()
    await webhooks.stop()
    await intel.stop()
  })
  app.register(alertsPlugin, { store, alerts })
  app.register(intelPlugin, { store, intel, maxFeedBytes: cfg.intel.max_feed_bytes })
  app.register(policyPlugin, { store, policy: cfg.policy, detector: () => detection.engine.policy })
  return { alerts, detection, learning, intel, webhooks }
}
