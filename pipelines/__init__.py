"""The built-in task pipelines: each module composes parts of `toolkit` into one task and registers it by name.

`toolkit` finds them through the `toolkit.pipelines` entry-point group
(`setup.cfg`), importing a module only when its pipeline is asked for;
importing this package registers all five at once, as the `toolkit` command
does so that a plain checkout works too.
"""

from pipelines import captioning, image_classification, sentiment, stock, text_generation

__all__ = ["captioning", "image_classification", "sentiment", "stock", "text_generation"]
