"""The video model (issue 16): procedural clips of moving shapes, their captions, and MotionEval."""
