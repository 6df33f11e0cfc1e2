"""The wrk driver: pre-rendered messages sent by wrk (C, epoll) so the generator is never the
limit, even at one document per message where the Python driver tops out first."""

from loadtest.wrk.driver import WRK, available, drive_wrk, write_messages

__all__ = ["WRK", "available", "drive_wrk", "write_messages"]
