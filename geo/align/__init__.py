"""Co-registration: find how far the target image is displaced from the reference, and undo it."""
