"""The closed world of the shapes domain: what the model can draw and the words that name it."""

from __future__ import annotations

SHAPES = ("circle", "square", "triangle", "star", "ring", "cross")
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars",
           "ring": "rings", "cross": "crosses"}

# Object colors are far apart in RGB (min pairwise distance 87) so that the detector can tell
# them apart after the VAE's blur; none of them is a background color.
COLORS = {
    "red": (220, 30, 30),
    "orange": (250, 140, 20),
    "yellow": (245, 225, 40),
    "green": (40, 170, 60),
    "cyan": (40, 210, 230),
    "blue": (30, 70, 220),
    "purple": (140, 50, 190),
    "pink": (250, 130, 200),
}
BACKGROUNDS = {"white": (255, 255, 255), "black": (0, 0, 0), "gray": (128, 128, 128)}
DEFAULT_BACKGROUND = "white"

# Radius of the shape's circumscribed circle as a fraction of min(width, height).
SIZES = {"small": 0.1, "medium": 0.145, "large": 0.2}

# A 3x3 grid of placements: (column, row) with 0 = left/top, 2 = right/bottom.
POSITIONS = {
    "top left": (0, 0), "top": (1, 0), "top right": (2, 0),
    "left": (0, 1), "center": (1, 1), "right": (2, 1),
    "bottom left": (0, 2), "bottom": (1, 2), "bottom right": (2, 2),
}
POSITION_PHRASES = {
    "top left": ("in the top left corner", "at the top left", "in the upper left corner"),
    "top": ("at the top", "at the top of the image", "near the top"),
    "top right": ("in the top right corner", "at the top right", "in the upper right corner"),
    "left": ("on the left", "at the left", "on the left side"),
    "center": ("in the center", "in the middle", "at the center"),
    "right": ("on the right", "at the right", "on the right side"),
    "bottom left": ("in the bottom left corner", "at the bottom left", "in the lower left corner"),
    "bottom": ("at the bottom", "at the bottom of the image", "near the bottom"),
    "bottom right": ("in the bottom right corner", "at the bottom right", "in the lower right corner"),
}

# Relation name -> (dx sign, dy sign) of A relative to B, in image coordinates (y grows down).
RELATIONS = {"left of": (-1, 0), "right of": (1, 0), "above": (0, -1), "below": (0, 1)}
RELATION_PHRASES = {
    "left of": ("left of", "to the left of", "on the left of"),
    "right of": ("right of", "to the right of", "on the right of"),
    "above": ("above", "over", "on top of"),
    "below": ("below", "under", "beneath"),
}
COUNTS = {2: "two", 3: "three"}
BACKGROUND_PHRASES = ("on a {} background", "against a {} background", "with a {} background")
PREFIXES = ("", "", "an image of ", "a picture of ", "a drawing of ", "a photo of ")

# Training/eval resolutions (width, height): 1:1, 3:2 and 2:3 at 128 px on the short side.
SIZES_PX = ((128, 128), (192, 128), (128, 192))


def manifest_vocabulary() -> dict:
    """The vocabulary as the model manifest lists it (the API shows it to users)."""
    return {
        "shapes": list(SHAPES),
        "colors": list(COLORS),
        "backgrounds": list(BACKGROUNDS),
        "sizes": list(SIZES),
        "positions": list(POSITIONS),
        "relations": list(RELATIONS),
        "counts": [1, *COUNTS],
    }
