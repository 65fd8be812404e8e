"""Prompt audio: the catalog rendered ahead of calls to 8 kHz WAV files with espeak-ng."""
