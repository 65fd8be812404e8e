"""The composition root: the one place that builds OneCall's objects, with explicit
constructor arguments, for one process.

- `build_application` builds the application layer (`hotline`) on the core (`ivr`,
  `routing`) and the ringers of both drivers (any process may reserve an agent for a call
  of either back-end, so any process can ring for both: a Twilio ring is a REST request,
  an Asterisk ring a request queued in Redis for the AMI owner).
- `build_twilio` adds the Twilio driver's inbound side (webhook turns, signature check,
  the liveness check) for the web tier; `web_services` hands the web tier what it uses.
- `build_asterisk_driver` builds the Asterisk driver for `onecall asterisk`.

Building does no I/O beyond opening a Redis client. Writing the deployment's starting state
(demo citizens, the configured agents) is `onecall.bootstrap`, run once when `serve` or
`asterisk` starts, not in every worker.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import redis
from flask import Flask

from hotline.agents import AgentDesk
from hotline.audit import ProfileViews
from hotline.audio.render import PromptAudio
from hotline.background import BackgroundWork
from hotline.calls import CallLifecycle, covered_pairs
from hotline.citizens import CitizenRegistry
from hotline.config import OneCallConfig
from hotline.desk_auth import DeskLogin, DeskSessions, LoginThrottle
from hotline.dispatch import AgentLegs, Dispatcher
from hotline.outcomes import CallOutcomes
from hotline.screenpop import DeliveryWorker, ScreenPops, WebhookTarget
from hotline.sessions import CallSessions
from ivr.interpreter import Interpreter
from onecall.redis_clients import async_client_factory, sync_client
from onecall.settings import AmiSettings, RedisSettings, Settings
from routing import RoutingStore
from routing.keys import Keys
from telephony.asterisk.agi_scripts import CHANNEL as ASTERISK
from telephony.asterisk.channels import AsteriskState
from telephony.asterisk.driver import AsteriskDriver, agent_devices
from telephony.asterisk.events import AsteriskEvents
from telephony.asterisk.ringer import AsteriskRinger
from telephony.twilio.legs import TwilioLegs
from telephony.twilio.liveness import CallLiveness
from telephony.twilio.ringer import TwilioRinger
from telephony.twilio.signature import TwilioSignatureCheck
from telephony.twilio.tokens import VoiceTokens
from telephony.twilio.twiml import TwimlRenderer, Voice, play_urls
from telephony.twilio.urls import TwilioUrls
from telephony.twilio.voice import CHANNEL as TWILIO, TwilioVoice
from webhooks.app import WebServices, create_app

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


@dataclass
class Application:
    """The application layer of one process, and the ringers of both drivers."""

    config: OneCallConfig
    redis: redis.Redis
    keys: Keys
    routing: RoutingStore
    registry: CitizenRegistry
    sessions: CallSessions
    interpreter: Interpreter
    pops: ScreenPops
    dispatcher: Dispatcher
    calls: CallLifecycle
    desk: AgentDesk
    outcomes: CallOutcomes
    views: ProfileViews
    desk_login: DeskLogin
    login_throttle: LoginThrottle
    background: BackgroundWork
    twilio_urls: TwilioUrls
    twilio_ringer: TwilioRinger
    asterisk_state: AsteriskState
    asterisk_ringer: AsteriskRinger

    def stop(self) -> None:
        self.background.stop()


@dataclass
class TwilioDriver:
    """The Twilio driver's inbound side: what the web tier serves."""

    renderer: TwimlRenderer
    liveness: CallLiveness
    voice: TwilioVoice
    signature: TwilioSignatureCheck
    prompt_audio: PromptAudio
    check_liveness: Callable[[], list[str]]  # end routed calls Twilio says are over, unreported


def webhook_targets(config: OneCallConfig, settings: Settings) -> list[WebhookTarget]:
    targets = [WebhookTarget(w.url, w.secret) for w in config.screen_pop.webhooks]
    if settings.screenpop_url:
        targets.append(WebhookTarget(settings.screenpop_url, settings.screenpop_secret or ""))
    return targets


def base_url_of(settings: Settings, base_url: str | None = None) -> str:
    """Where Twilio reaches this OneCall: ONECALL_PUBLIC_URL, else the address it serves on."""
    return (settings.public_url or base_url or DEFAULT_BASE_URL).rstrip("/")


def voice_tokens(settings: Settings) -> VoiceTokens | None:
    """The desk softphone's token minter, when an API key and a TwiML app are configured."""
    if not (settings.twilio_api_key and settings.twilio_api_secret and settings.twilio_twiml_app_sid):
        return None
    return VoiceTokens(account_sid=settings.twilio_account_sid, api_key=settings.twilio_api_key,
                       api_secret=settings.twilio_api_secret, twiml_app_sid=settings.twilio_twiml_app_sid)


def build_application(config: OneCallConfig, settings: Settings, *, base_url: str | None = None,
                      redis_client: redis.Redis | None = None) -> Application:
    client = redis_client or sync_client(settings.redis)
    keys = Keys(config.hotline.id)
    routing = RoutingStore(client, namespace=config.hotline.id,
                           reservation_timeout=config.routing.reservation_timeout_seconds,
                           wrapup_seconds=config.routing.wrapup_seconds)
    registry = CitizenRegistry(client, keys, config.hotline.country_code, skills=config.skills)
    sessions = CallSessions(client, keys)
    interpreter = Interpreter(config.flow, default_language=config.hotline.default_language,
                              fallback_skill=config.routing.fallback_skill)
    pops = ScreenPops(client, keys, webhook_targets(config, settings))
    views = ProfileViews(client, keys, max_views=config.audit.max_views,
                         max_views_per_citizen=config.audit.max_views_per_citizen)
    dispatcher = Dispatcher(routing=routing, registry=registry, pops=pops, views=views, config=config,
                            legs=AgentLegs(client, keys))
    outcomes = CallOutcomes(client, keys, pops)
    calls = CallLifecycle(interpreter=interpreter, sessions=sessions, registry=registry, routing=routing,
                          dispatcher=dispatcher, desk_events=pops, covered_language_pairs=covered_pairs(config.agents),
                          default_language=config.hotline.default_language, outcomes=outcomes)
    desk = AgentDesk(routing=routing, dispatcher=dispatcher, calls=calls, pops=pops, registry=registry,
                     outcomes=outcomes, views=views, skills=config.skills,
                     default_language=config.hotline.default_language,
                     wrapup_extension=config.routing.wrapup_extension_seconds, voice_tokens=voice_tokens(settings))
    login_throttle = LoginThrottle(client, keys, per_agent=config.desk.per_agent, per_address=config.desk.per_address)
    desk_login = DeskLogin(sessions=DeskSessions(client, keys, lifetime_seconds=config.desk.session_hours * 3600),
                           throttle=login_throttle, agent_config=config.agent, desk=desk)
    delivery = DeliveryWorker(client, pops, timeout=config.screen_pop.timeout_seconds,
                              max_attempts=config.screen_pop.max_attempts,
                              retry_base=config.screen_pop.retry_base_seconds)
    background = BackgroundWork(dispatcher=dispatcher, delivery=delivery, pops=pops,
                                sweep_interval=config.routing.sweep_interval_seconds)
    twilio_urls = TwilioUrls(base_url_of(settings, base_url))
    twilio_ringer = TwilioRinger(settings.twilio_account_sid, settings.twilio_auth_token,
                                 caller_id=config.hotline.number, ring_timeout=config.routing.ring_timeout_seconds,
                                 urls_for=twilio_urls.agent_leg, legs=TwilioLegs(client, keys),
                                 api_base_url=settings.twilio_api_base_url)
    asterisk_state = AsteriskState(client, keys)
    asterisk_ringer = AsteriskRinger(asterisk_state, agent_devices(config))
    dispatcher.register_ringer(TWILIO, twilio_ringer)
    dispatcher.register_ringer(ASTERISK, asterisk_ringer)
    return Application(config=config, redis=client, keys=keys, routing=routing, registry=registry,
                       sessions=sessions, interpreter=interpreter, pops=pops, dispatcher=dispatcher, calls=calls,
                       desk=desk, outcomes=outcomes, views=views, desk_login=desk_login,
                       login_throttle=login_throttle, background=background, twilio_urls=twilio_urls,
                       twilio_ringer=twilio_ringer,
                       asterisk_state=asterisk_state, asterisk_ringer=asterisk_ringer)


def build_twilio(application: Application, settings: Settings) -> TwilioDriver:
    config = application.config
    prompt_audio = PromptAudio(config.prompt_audio_dir)  # `onecall prompts build` output, listed once
    voices = {code: Voice(lang.say_language, lang.voice, lang.speech_language) for code, lang in config.languages.items()}
    renderer = TwimlRenderer(config.catalog, voices,
                             play_url=play_urls(config.languages, prompt_audio, application.twilio_urls.base_url))
    # A routed call unseen for three hold-loop rounds is checked with Twilio (see liveness).
    liveness = CallLiveness(application.redis, application.keys,
                            stale_after=max(60.0, 3.0 * config.routing.wait_announcement_seconds))
    application.calls.watch(TWILIO, liveness)
    voice = TwilioVoice(calls=application.calls, sessions=application.sessions, routing=application.routing,
                        renderer=renderer, urls=application.twilio_urls, liveness=liveness,
                        dispatcher=application.dispatcher, legs=TwilioLegs(application.redis, application.keys),
                        default_language=config.hotline.default_language,
                        wait_announcement_seconds=config.routing.wait_announcement_seconds)
    def check_liveness() -> list[str]:
        return liveness.reconcile(application.routing, application.twilio_ringer.status,
                                  application.calls.ended)

    application.background.add_check(check_liveness, liveness.stale_after / 2)
    return TwilioDriver(renderer=renderer, liveness=liveness, voice=voice,
                        signature=TwilioSignatureCheck(settings.twilio_auth_token, settings.public_url),
                        prompt_audio=prompt_audio, check_liveness=check_liveness)


def web_services(application: Application, twilio: TwilioDriver, settings: Settings) -> WebServices:
    return WebServices(twilio_voice=twilio.voice, twilio_signature=twilio.signature, desk=application.desk,
                       desk_login=application.desk_login, login_throttle=application.login_throttle,
                       views=application.views,
                       pops=application.pops, registry=application.registry, routing=application.routing,
                       prompt_audio=twilio.prompt_audio, agent_config=application.config.agent,
                       hotline=application.config.hotline, api_token=settings.api_token,
                       secret_key=settings.secret_key, ping=application.redis.ping,
                       agent_names={agent.id: agent.name for agent in application.config.agents})


def build_asterisk_driver(application: Application, ami: AmiSettings, redis_settings: RedisSettings) -> AsteriskDriver:
    return AsteriskDriver(config=application.config, calls=application.calls, routing=application.routing,
                          dispatcher=application.dispatcher, pops=application.pops,
                          ringer=application.asterisk_ringer, state=application.asterisk_state,
                          redis_client=application.redis,
                          async_redis=async_client_factory(redis_settings), ami_settings=ami)


@dataclass
class WebProcess:
    """One web process: the application, the Twilio driver and the Flask app serving them."""

    application: Application
    twilio: TwilioDriver
    app: Flask

    def stop(self) -> None:
        self.application.stop()


def build_web_process(config: OneCallConfig, settings: Settings, *, base_url: str | None = None,
                      redis_client: redis.Redis | None = None) -> WebProcess:
    application = build_application(config, settings, base_url=base_url, redis_client=redis_client)
    twilio = build_twilio(application, settings)
    return WebProcess(application, twilio, create_app(web_services(application, twilio, settings)))


def build_asterisk_events(application: Application) -> AsteriskEvents:
    """The Asterisk event table on its own (replaying captures, benchmarks): the driver
    builds its own, wired to its resync."""
    return AsteriskEvents(calls=application.calls, routing=application.routing, dispatcher=application.dispatcher,
                          desk_events=application.pops, state=application.asterisk_state,
                          devices=agent_devices(application.config))
