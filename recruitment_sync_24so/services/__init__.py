from . import mapping, twentyfour
