"""Deployment tooling (not shipped in the SCF zip): serverless.yml model, `sesrelay package`,
`sesrelay deploy`. Only `deploy.deploy` imports the SCF SDK, lazily."""
