"""The consent workflow: the USSD menu, the Send OTP steps and their records."""
