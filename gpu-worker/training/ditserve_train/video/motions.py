"""The motion half of the clip world: the words for how objects move, and what they mean in pixels.

The model plays back at FPS, but a speed word sets the distance travelled over the WHOLE clip (a
fraction of the frame along the axis of motion), not per second: the same caption is then valid at
any clip length from 8 to 24 frames (1 to 3 s), and MotionEval can score it without knowing the fps.
"""

from __future__ import annotations

FPS = 8
FRAME_COUNTS = tuple(range(8, 25, 2))  # spacetime patches are 2 frames deep
DEFAULT_FRAMES = 16

# (dx, dy) in image coordinates (y grows down).
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
# Extent over the clip, as a fraction of the frame's width (left/right) or height (up/down). The
# quick one still fits a large object at 128 px (its free range there is 0.57 of the frame);
# "normal" is what a caption without a speed word means.
SPEEDS = {"slowly": 0.2, "normal": 0.35, "quickly": 0.5}
SPEED_WORDS = {"slowly": ("slowly", "gently"), "quickly": ("quickly", "fast", "rapidly")}

# Growing and shrinking go between these two vocab.SIZES (the radius doubles or halves).
GROW_SIZES = ("small", "large")
# Two objects moving apart or together: their centre distance changes by this fraction of
# min(width, height); at the near end their circles are this much further apart than touching.
GROUP_EXTENT = 0.25
GROUP_NEAR_GAP = 0.05
# A color change happens at a random moment in this span of the clip (as a fraction of it).
TURN_SPAN = (0.35, 0.65)

# Phrases as (participle, third person) pairs: "a star moving left" / "a star moves left".
MOVE_VERBS = (("moving", "moves"), ("sliding", "slides"), ("going", "goes"), ("drifting", "drifts"),
              ("traveling", "travels"))
DIRECTION_PHRASES = {
    "left": ("left", "to the left", "leftwards", "from right to left"),
    "right": ("right", "to the right", "rightwards", "from left to right"),
    "up": ("up", "upwards", "towards the top", "from bottom to top"),
    "down": ("down", "downwards", "towards the bottom", "from top to bottom"),
}
PATH_PHRASE = "from the {} to the {}"  # vocab.POSITIONS names: "from the top left to the bottom right"
STILL_PHRASES = (("standing still", "stands still"), ("not moving", "does not move"),
                 ("staying in place", "stays in place"), ("staying still", "stays still"))
STATIC_ADJECTIVES = ("static", "motionless")  # "a static red star"
GROW_PHRASES = (("growing", "grows"), ("getting bigger", "gets bigger"), ("expanding", "expands"),
                ("growing larger", "grows larger"))
SHRINK_PHRASES = (("shrinking", "shrinks"), ("getting smaller", "gets smaller"),
                  ("growing smaller", "grows smaller"))
TURN_PHRASES = (("turning {}", "turns {}"), ("changing to {}", "changes to {}"), ("becoming {}", "becomes {}"))
# Two objects together; the third person is plural here ("two stars move apart").
GROUP_PHRASES = {
    "apart": (("moving apart", "move apart"), ("drifting apart", "drift apart"),
              ("moving away from each other", "move away from each other")),
    "together": (("moving towards each other", "move towards each other"),
                 ("approaching each other", "approach each other"), ("coming together", "come together")),
}
VIDEO_PREFIXES = ("", "", "a video of ", "a clip of ", "an animation of ")

MOTION_KINDS = ("move", "path", "still", "grow", "shrink", "turn")

