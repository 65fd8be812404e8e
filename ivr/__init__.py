"""The IVR core: call-flow model and validation, prompt catalog, and the pure flow interpreter."""
from ivr.actions import Action, Gather, Hangup, Route, Say
from ivr.errors import CatalogInvalid, FlowError, FlowInvalid, UnknownPrompt
from ivr.events import CallStarted, CallerHungUp, DigitsEntered, Event, NoInput, SpeechHeard
from ivr.flow import Flow, MenuOption, Node
from ivr.interpreter import CitizenDirectory, CitizenMatch, Interpreter, Step
from ivr.prompts import PromptCatalog, UniqueKeyLoader, load_catalog
from ivr.state import CallState
from ivr.validate import check_flow, load_flow, load_flow_file

__all__ = [
    "Action", "Gather", "Hangup", "Route", "Say",
    "CatalogInvalid", "FlowError", "FlowInvalid", "UnknownPrompt",
    "CallStarted", "CallerHungUp", "DigitsEntered", "Event", "NoInput", "SpeechHeard",
    "Flow", "MenuOption", "Node",
    "CitizenDirectory", "CitizenMatch", "Interpreter", "Step",
    "PromptCatalog", "UniqueKeyLoader", "load_catalog",
    "CallState",
    "check_flow", "load_flow", "load_flow_file",
]
