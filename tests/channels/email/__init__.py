"""Tests of the e-mail connector, against real mail servers on loopback."""
