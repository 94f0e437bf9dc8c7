"""Fakes of the remote systems, speaking their real protocols over loopback HTTP."""
