"""Everything one OneCall process needs, built once from the config and the settings.

The web tier reads these from `app.extensions["onecall"]`; the CLI builds one too.
Nothing here keeps call state: it all lives in Redis, so any process can be killed and
another picks up where it left off.
"""
from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlencode

import redis
from telephony.twilio.signature import TwilioRequestValidator

from ivr.interpreter import Interpreter
from telephony.twilio.ringer import AgentLegUrls, TwilioRinger
from telephony.twilio.twiml import TwimlRenderer, TwimlUrls, Voice
from telephony.asterisk.channels import AsteriskRinger
from hotline.citizens import CitizenRegistry, parse_json_lines
from hotline.config import OneCallConfig
from hotline.calls import CallLifecycle
from hotline.dispatch import Dispatcher
from telephony.twilio.liveness import CallLiveness
from hotline.audio.render import PromptAudio, twilio_play_url
from hotline.sessions import CallSessions
from onecall.settings import Settings
from routing import AgentProfile, RoutingStore
from hotline.screenpop import DeliveryWorker, ScreenPops, WebhookTarget

log = logging.getLogger(__name__)


def agent_profiles(config: OneCallConfig) -> list[AgentProfile]:
    return [
        AgentProfile(agent_id=a.id, name=a.name, skills=dict(a.skills), languages=tuple(a.languages), endpoint=a.endpoint)
        for a in config.agents
    ]


def webhook_targets(config: OneCallConfig, settings: Settings) -> list[WebhookTarget]:
    targets = [WebhookTarget(w.url, w.secret) for w in config.screen_pop.webhooks]
    if settings.screenpop_url:
        targets.append(WebhookTarget(settings.screenpop_url, settings.screenpop_secret or ""))
    return targets


class Runtime:
    def __init__(self, config: OneCallConfig, settings: Settings, *, base_url: str | None = None,
                 redis_client: redis.Redis | None = None) -> None:
        self.config = config
        self.settings = settings
        self.base_url = (settings.public_url or base_url or "http://127.0.0.1:8080").rstrip("/")
        self.twiml_urls = TwimlUrls(  # where Twilio is sent next from a caller's TwiML
            gather=self.url("/twilio/gather"),
            no_input=self.url("/twilio/no-input"),
            wait=self.url("/twilio/wait"),
            queue_exit=self.url("/twilio/queue-exit"),
        )
        self.redis = redis_client or redis.Redis.from_url(settings.redis_url, decode_responses=True)
        namespace = config.hotline.id
        self.routing = RoutingStore(
            self.redis,
            namespace=namespace,
            reservation_timeout=config.routing.reservation_timeout_seconds,
            wrapup_seconds=config.routing.wrapup_seconds,
        )
        # (skill, language) pairs some configured agent covers: fixed by the config.
        self.covered_language_pairs = frozenset(
            (skill, language) for agent in config.agents for skill in agent.skills for language in agent.languages
        )
        self.registry = CitizenRegistry(self.redis, namespace, config.hotline.country_code)
        self._seed_citizens()
        self.sessions = CallSessions(self.redis, namespace)
        self.interpreter = Interpreter(
            config.flow, default_language=config.hotline.default_language, fallback_skill=config.routing.fallback_skill
        )
        self.prompt_audio = PromptAudio(config.prompt_audio_dir)  # `onecall prompts build` output, listed once
        self.renderer = TwimlRenderer(
            config.catalog, {code: Voice(l.say_language, l.voice, l.speech_language) for code, l in config.languages.items()},
            play_url=twilio_play_url(config, self.prompt_audio, self.url),
        )
        self.twilio_validator = TwilioRequestValidator(settings.twilio_auth_token)
        self.pops = ScreenPops(self.redis, namespace, webhook_targets(config, settings))
        self.delivery = DeliveryWorker(
            self.redis,
            self.pops,
            timeout=config.screen_pop.timeout_seconds,
            max_attempts=config.screen_pop.max_attempts,
            retry_base=config.screen_pop.retry_base_seconds,
        )
        self.ringer = TwilioRinger(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            caller_id=config.hotline.number,
            ring_timeout=config.routing.ring_timeout_seconds,
            urls_for=self.agent_leg_urls,
            api_base_url=settings.twilio_api_base_url,
        )
        # Any process can ring for an Asterisk call, with or without AMI settings of its own:
        # the ring is queued in Redis for the process that owns the AMI connection.
        self.ringers = {"twilio": self.ringer, "asterisk": AsteriskRinger(self.redis, namespace, config)}
        self.dispatcher = Dispatcher(redis_client=self.redis, routing=self.routing, registry=self.registry, pops=self.pops,
                                     ringers=self.ringers, config=config)
        # A routed call unseen for three hold-loop rounds is checked with Twilio (see liveness).
        self.liveness = CallLiveness(self.redis, namespace,
                                     stale_after=max(60.0, 3.0 * config.routing.wait_announcement_seconds))
        self.calls = CallLifecycle(self)
        # An available agent who gained a skill may match a waiting call at once.
        self.dispatcher.dispatch_all(self.routing.sync_agents(agent_profiles(config)))
        self._stop = threading.Event()
        self._background: threading.Thread | None = None

    def url(self, path: str, **query: str) -> str:
        return f"{self.base_url}{path}" + (f"?{urlencode(query)}" if query else "")

    def agent_leg_urls(self, call_id: str, agent_id: str) -> AgentLegUrls:
        return AgentLegUrls(
            answer=self.url("/twilio/agent-answer", call=call_id, agent=agent_id),
            status=self.url("/twilio/agent-status", call=call_id, agent=agent_id),
        )

    def _seed_citizens(self) -> None:
        seed = self.config.citizens_seed_file
        if seed is None or self.registry.count() > 0:
            return
        with open(seed, encoding="utf-8") as lines:
            count = self.registry.import_records(parse_json_lines(lines))
        log.info("citizen registry was empty: imported %d demo citizens from %s", count, seed)

    # -- background work: reservation/wrap-up timeouts and webhook deliveries -------------
    def start_background(self) -> None:
        if self._background is None:
            self._background = threading.Thread(target=self._background_loop, name="onecall-background", daemon=True)
            self._background.start()

    def check_liveness(self) -> list[str]:
        """End routed calls Twilio says are over although no callback told us."""
        return self.liveness.reconcile(self.routing, self.ringer.status, self.dispatcher.dispatch)

    def _background_loop(self) -> None:
        interval = self.config.routing.sweep_interval_seconds
        next_liveness_check = 0.0
        while not self._stop.is_set():
            try:
                self.dispatcher.sweep()
                while self.delivery.run_due():
                    pass
                if time.monotonic() >= next_liveness_check:
                    next_liveness_check = time.monotonic() + self.liveness.stale_after / 2
                    self.check_liveness()
            except redis.RedisError:
                log.exception("background work failed; retrying")
            self.pops.deliveries_waiting.wait(interval)
            self.pops.deliveries_waiting.clear()

    def stop(self) -> None:
        self._stop.set()
        self.pops.deliveries_waiting.set()
        if self._background is not None:
            self._background.join(timeout=5)
        self.dispatcher.shutdown()
