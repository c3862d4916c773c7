"""WSGI layers around the app: the Engine.IO guard, the sticky-node cookie
and the client address behind trusted proxies.

They sit below Socket.IO (they see raw WSGI requests, before python-engineio
does), so they live apart from realtime/, which is Socket.IO plumbing. They
import only core modules (audit, config), never a feature.
"""
