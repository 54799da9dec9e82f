"""The graph's tables, named where the graph's modules look for them; they are defined
beneath the privacy policy that decides on them (`keepsake.relations`)."""

from keepsake.relations import Block as Block
from keepsake.relations import CloseFriend as CloseFriend
from keepsake.relations import Follow as Follow
from keepsake.relations import FollowState as FollowState
from keepsake.relations import Mute as Mute
