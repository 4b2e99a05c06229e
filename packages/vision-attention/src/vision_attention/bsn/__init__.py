"""BSN: boundary-sensitive temporal action proposals (Lin et al. 2018) and the AR@AN / AUC proposal metrics."""
