"""The HTTP service: FastAPI app, predictors, prediction log and observability."""
