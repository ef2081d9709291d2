"""The build pipeline of one API (``pipeline.BuildPipeline``) and its pure helpers: the CodeBuild buildspec
(``buildspec``) and the managed-build source zip (``source_bundle``)."""
from components.pipeline.pipeline import BuildPipeline, BuildPipelineArgs

__all__ = ["BuildPipeline", "BuildPipelineArgs"]
