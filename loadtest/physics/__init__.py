"""The physics ceiling: what parsing and validating a message costs, and nothing else.

No framework, no authentication, no extraction, no store: a bare ASGI endpoint over the
service's own hardened parser and compiled schemas, served by uvicorn on httptools and
uvloop. Any figure above it is unreachable for Sandan on the same machine; the bench reports
every target as a share of it.
"""

from loadtest.physics.app import PhysicsApp

__all__ = ["PhysicsApp"]
