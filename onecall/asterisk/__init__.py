"""Asterisk driver, orchestration side: one process owns the AMI connection of an
Asterisk and serves its FastAGI dialogues; every other OneCall process asks it for AMI
actions through Redis. Protocol pieces live in `ivr.asterisk`."""
