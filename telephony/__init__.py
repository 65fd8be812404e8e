"""The telephony drivers, one home each: `telephony.twilio` (webhooks in, TwiML and REST
out) and `telephony.asterisk` (FastAGI dialogue, AMI actions and events). Each translates
its protocol into calls on the application (`hotline`) and back."""
