"""The Twilio driver: TwiML rendering, the voice webhook turns, the REST ringer, the
request signature and the reconciliation of calls whose hang-up was never reported."""
