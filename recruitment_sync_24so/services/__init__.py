from . import mapping, tso_client
