"""The deployment's starting state, written once when `onecall serve` or `onecall asterisk`
starts (never in each web worker, never by a CLI tool that only reads):

- the citizen registry, seeded from `citizens.seed_file` when it is empty (the demo);
- the configured agents, synced into the router (new agents start offline, live states are
  kept; an available agent who gained a skill may be reserved a waiting call at once).
"""
from __future__ import annotations

import logging

from hotline.citizens import parse_json_lines
from routing import AgentProfile

log = logging.getLogger(__name__)


def agent_profiles(config) -> list[AgentProfile]:
    return [AgentProfile(agent_id=a.id, name=a.name, skills=dict(a.skills), languages=tuple(a.languages),
                         endpoint=a.endpoint) for a in config.agents]


def seed_citizens(config, registry) -> int:
    """Import the seed file into an empty registry; how many were imported."""
    seed = config.citizens_seed_file
    if seed is None or registry.count() > 0:
        return 0
    with open(seed, encoding="utf-8") as lines:
        count = registry.import_records(parse_json_lines(lines))
    log.info("citizen registry was empty: imported %d demo citizens from %s", count, seed)
    return count


def bootstrap(application) -> None:
    """Seed the registry and sync the agents of `application.config` (an `Application`)."""
    seed_citizens(application.config, application.registry)
    application.dispatcher.dispatch_all(application.routing.sync_agents(agent_profiles(application.config)))
