"""The deployment's configuration, validated once at load into typed objects.

`load_config(path)` reads the YAML file, checks every field, loads the prompt catalog
and the call flow it names, and returns a frozen `OneCallConfig`. Any problem raises
`ConfigInvalid` listing each bad field by its path and a plain sentence, so
`onecall check` and `onecall serve` refuse a broken file before a single call is taken.
Secrets (Twilio token, API token) never live here: they come from the environment,
see `onecall.settings`.
"""
from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ivr.errors import FlowInvalid
from ivr.hold import DRIVER_PROMPTS
from ivr.prompts import PromptCatalog, load_catalog
from ivr.validate import load_flow_file
from ivr.yamlstrict import UniqueKeyLoader  # refuses duplicate keys, which PyYAML would silently merge
from hotline.errors import ConfigInvalid

ENDPOINT_PATTERN = re.compile(r"^(client:[A-Za-z0-9_.\-]+|\+[1-9][0-9]{6,14}|sip:.+)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


LocalizedText = dict[str, str]


class LanguageConfig(_Model):
    say_language: str = Field(description="Twilio <Say language>, e.g. ko-KR")
    voice: str = Field(description="Twilio <Say voice>, e.g. Polly.Seoyeon")
    speech_language: str = Field(description="Twilio <Gather language> for speech recognition")
    # espeak-ng voice of the rendered prompt audio (`onecall prompts build`); unset: the language code.
    tts_voice: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_+/.\-]{0,63}$")] = None
    # Twilio speaks prompts with <Say>, or with `play` plays their rendered audio (<Say> where none was rendered).
    twilio_prompts: Literal["say", "play"] = "say"


class HotlineConfig(_Model):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")]
    name: LocalizedText
    number: Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
    default_language: str
    country_code: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}$")] = "82"
    # IANA time zone the desk shows dates and times in (a consultation at 08:00 KST is that day).
    timezone: str = "Asia/Seoul"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as Asia/Seoul") from None
        return value


class SkillConfig(_Model):
    name: LocalizedText


class AgentConfig(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")]
    name: str
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]]
    languages: list[str]
    endpoint: str
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")]
    # The agent's phone on Asterisk as AMI Originate dials it (PJSIP/1001); unset: Twilio only.
    asterisk_device: Annotated[str | None, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*/[^\s,]+$")] = None

    @field_validator("endpoint")
    @classmethod
    def _endpoint_shape(cls, value: str) -> str:
        if not ENDPOINT_PATTERN.match(value):
            raise ValueError("must be client:<identity>, an E.164 number like +82212345678, or a sip: URI")
        return value

    @field_validator("skills")
    @classmethod
    def _has_skills(cls, value: dict) -> dict:
        if not value:
            raise ValueError("an agent needs at least one skill")
        return value


class RoutingConfig(_Model):
    reservation_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 20
    wrapup_seconds: Annotated[float, Field(ge=0, le=3600)] = 30
    wrapup_extension_seconds: Annotated[float, Field(gt=0, le=3600)] = 60  # the desk's "extend" adds this
    fallback_skill: str = "general"
    ring_timeout_seconds: Annotated[int, Field(ge=5, le=120)] = 20
    sweep_interval_seconds: Annotated[float, Field(gt=0, le=10)] = 0.5
    wait_announcement_seconds: Annotated[int, Field(ge=5, le=300)] = 20


class CitizensConfig(_Model):
    seed_file: str | None = None


class WebhookConfig(_Model):
    url: Annotated[str, Field(pattern=r"^https?://")]
    secret: Annotated[str, Field(min_length=16)]


class ScreenPopConfig(_Model):
    webhooks: list[WebhookConfig] = []
    timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 3
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    retry_base_seconds: Annotated[float, Field(gt=0, le=60)] = 1


class FilesConfig(_Model):
    prompts: str = "prompts/catalog.yaml"
    flow: str = "flows/main.yaml"
    prompt_audio: str | None = None  # rendered prompts; unset: audio/ beside the prompt catalog


class AsteriskConfig(_Model):
    """How calls run on Asterisk; the AMI address and secret come from the environment."""

    agent_context: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+$")] = "onecall-agent"
    music_class: str = "default"
    bridge_profile: str = "onecall_bridge"
    caller_profile: str = "onecall_caller"
    agent_profile: str = "onecall_agent"
    # Where the rendered prompts are as Asterisk sees them (unset: this machine's prompt audio folder).
    sounds_dir: str | None = None
    ami_action_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10


class LoginRule(_Model):
    """Wrong PINs allowed from one subject (an agent id, a client address) in a window
    before its logins are refused for `lockout_seconds`."""

    max_failures: Annotated[int, Field(ge=1, le=1000)]
    window_seconds: Annotated[int, Field(ge=1, le=86400)] = 900
    lockout_seconds: Annotated[int, Field(ge=1, le=86400)] = 900


class DeskConfig(_Model):
    """The agent desktop's login: how long a session lasts and how wrong PINs are throttled."""

    session_hours: Annotated[float, Field(gt=0, le=24)] = 12
    per_agent: LoginRule = LoginRule(max_failures=5)
    # Higher: every agent of an office may share one address (a NAT, a proxy).
    per_address: LoginRule = LoginRule(max_failures=20)


class AuditConfig(_Model):
    """The profile-view audit streams (see `hotline.audit`): the newest entries kept."""

    max_views: Annotated[int, Field(ge=1000)] = 1_000_000
    max_views_per_citizen: Annotated[int, Field(ge=10)] = 10_000


class RawConfig(_Model):
    hotline: HotlineConfig
    languages: dict[str, LanguageConfig]
    skills: dict[str, SkillConfig]
    agents: list[AgentConfig]
    routing: RoutingConfig = RoutingConfig()
    citizens: CitizensConfig = CitizensConfig()
    screen_pop: ScreenPopConfig = ScreenPopConfig()
    files: FilesConfig = FilesConfig()
    asterisk: AsteriskConfig = AsteriskConfig()
    desk: DeskConfig = DeskConfig()
    audit: AuditConfig = AuditConfig()

    @model_validator(mode="after")
    def _cross_references(self) -> "RawConfig":
        problems = list(_cross_reference_problems(self))
        if problems:
            raise _CrossReferenceError(problems)
        return self


class _CrossReferenceError(ValueError):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {r}" for p, r in problems))
        self.problems = problems


def _cross_reference_problems(raw: RawConfig):
    languages = set(raw.languages)
    if raw.hotline.default_language not in languages:
        yield "hotline.default_language", f"'{raw.hotline.default_language}' is not one of the languages {sorted(languages)}"
    for key, names in (("hotline.name", raw.hotline.name),) + tuple(
        (f"skills.{skill}.name", cfg.name) for skill, cfg in raw.skills.items()
    ):
        for lang in sorted(languages - set(names)):
            yield key, f"has no text in language '{lang}'"
    if raw.routing.fallback_skill not in raw.skills:
        yield "routing.fallback_skill", f"'{raw.routing.fallback_skill}' is not a configured skill"
    seen_ids: set[str] = set()
    devices: dict[str, str] = {}
    for index, agent in enumerate(raw.agents):
        where = f"agents[{index}]"
        if agent.id in seen_ids:
            yield f"{where}.id", f"'{agent.id}' is used by two agents"
        seen_ids.add(agent.id)
        if agent.asterisk_device:
            if agent.asterisk_device in devices:
                yield f"{where}.asterisk_device", f"'{agent.asterisk_device}' is also the phone of {devices[agent.asterisk_device]}"
            devices[agent.asterisk_device] = agent.id
        for skill in agent.skills:
            if skill not in raw.skills:
                yield f"{where}.skills.{skill}", "is not a configured skill"
        for lang in agent.languages:
            if lang not in languages:
                yield f"{where}.languages", f"'{lang}' is not a configured language"
    covered = {skill for agent in raw.agents for skill in agent.skills}
    if raw.agents and raw.routing.fallback_skill not in covered:
        yield "routing.fallback_skill", "no agent has this skill, so calls that fall back would wait forever"


class OneCallConfig:
    """The validated configuration plus the files it names (flow and prompt catalog)."""

    def __init__(self, raw: RawConfig, flow, catalog: PromptCatalog, base_dir: Path, source: str) -> None:
        self.raw = raw
        self.flow = flow
        self.catalog = catalog
        self.base_dir = base_dir
        self.source = source

    # Short names for what the rest of the code reads most.
    hotline = property(lambda self: self.raw.hotline)
    languages = property(lambda self: self.raw.languages)
    skills = property(lambda self: self.raw.skills)
    agents = property(lambda self: self.raw.agents)
    routing = property(lambda self: self.raw.routing)
    screen_pop = property(lambda self: self.raw.screen_pop)
    asterisk = property(lambda self: self.raw.asterisk)
    desk = property(lambda self: self.raw.desk)
    audit = property(lambda self: self.raw.audit)

    def agent(self, agent_id: str) -> AgentConfig | None:
        return next((a for a in self.raw.agents if a.id == agent_id), None)

    def resolve(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def citizens_seed_file(self) -> Path | None:
        seed = self.raw.citizens.seed_file
        return self.resolve(seed) if seed else None

    @property
    def prompt_audio_dir(self) -> Path:
        """Where `onecall prompts build` writes and the drivers find the rendered prompts."""
        configured = self.raw.files.prompt_audio
        return self.resolve(configured) if configured else self.resolve(self.raw.files.prompts).parent / "audio"


def _pydantic_problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors():
        context = item.get("ctx", {}).get("error")
        if isinstance(context, _CrossReferenceError):
            problems.extend(context.problems)
            continue
        path = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in item["loc"]).replace(".[", "[")
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "is not a known setting"
        elif item["type"] == "missing":
            message = "is required"
        problems.append((path or "(top level)", message))
    return problems


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigInvalid(str(path), [("(file)", f"cannot be read: {exc.strerror}")]) from exc
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise ConfigInvalid(str(path), [("(file)", f"is not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise ConfigInvalid(str(path), [("(top level)", "must be a mapping of settings")])
    return data


def _driver_prompt_problems(catalog: PromptCatalog, catalog_file: str, languages: set[str]):
    for prompt_id, names in DRIVER_PROMPTS.items():
        where = f"files.prompts ({catalog_file}) {prompt_id}"
        if prompt_id not in catalog:
            yield where, "is missing; the drivers speak it to waiting callers and agents"
            continue
        for language in sorted(languages):
            if not catalog.has(prompt_id, language):
                yield where, f"has no text in language '{language}'"
        if catalog.placeholders(prompt_id) != names:
            yield where, f"must use exactly the placeholders {sorted(names) or 'none'}"


def _passage_language_problems(catalog: PromptCatalog, catalog_file: str, languages: set[str]):
    """A `[xx: …]` passage is spoken by language xx's voice, so xx must be configured."""
    for prompt_id, language, other in catalog.passage_languages():
        if other not in languages:
            yield (f"files.prompts ({catalog_file}) {prompt_id}.{language}",
                   f"has a [{other}: …] passage, but {other!r} is not a language of this hotline "
                   f"({', '.join(sorted(languages))})")


def load_config(path: str | Path) -> OneCallConfig:
    path = Path(path)
    source = str(path)
    data = _read_yaml(path)
    try:
        raw = RawConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigInvalid(source, _pydantic_problems(exc)) from None
    base_dir = path.resolve().parent
    problems: list[tuple[str, str]] = []
    catalog_path = base_dir / raw.files.prompts
    try:
        catalog = load_catalog(catalog_path)
    except Exception as exc:  # the catalog loader names the bad entry in its message
        raise ConfigInvalid(source, [("files.prompts", f"{catalog_path}: {exc}")]) from None
    problems.extend(_driver_prompt_problems(catalog, raw.files.prompts, set(raw.languages)))
    problems.extend(_passage_language_problems(catalog, raw.files.prompts, set(raw.languages)))
    flow = None
    try:
        flow = load_flow_file(
            base_dir / raw.files.flow,
            catalog=catalog,
            skills=set(raw.skills),
            languages=set(raw.languages),
            fallback_skill=raw.routing.fallback_skill,
        )
    except FlowInvalid as exc:
        problems.extend((f"files.flow ({raw.files.flow}) {error.path}", error.message) for error in exc.errors)
    except OSError as exc:
        problems.append(("files.flow", f"{raw.files.flow} cannot be read: {exc.strerror}"))
    if raw.citizens.seed_file and not (base_dir / raw.citizens.seed_file).is_file():
        problems.append(("citizens.seed_file", f"{raw.citizens.seed_file} does not exist"))
    if problems:
        raise ConfigInvalid(source, problems)
    return OneCallConfig(raw, flow, catalog, base_dir, source)
