import MOMClient
