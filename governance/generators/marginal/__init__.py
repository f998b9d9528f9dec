"""DP marginal generators (MST, AIM) on a public discretisation, accounted in zCDP."""
