// Plays a memory's clips one after another with its music under them.
// Without this script the page still shows and plays the first clip.
(function () {
  "use strict";
  var video = document.getElementById("player");
  var button = document.getElementById("play");
  if (!video || !button) {
    return;
  }
  var clips = Array.prototype.slice.call(document.querySelectorAll("#clips li"));
  var music = document.getElementById("music");
  var index = 0;

  function load(i) {
    index = i;
    video.src = clips[i].getAttribute("data-video");
    video.poster = clips[i].getAttribute("data-poster") || "";
  }

  video.addEventListener("ended", function () {
    if (index + 1 < clips.length) {
      load(index + 1);
      video.play();
    } else if (music) {
      music.pause();
      music.currentTime = 0;
    }
  });
  video.addEventListener("play", function () {
    if (music) {
      music.play().catch(function () { /* the clip plays on without music */ });
    }
  });
  video.addEventListener("pause", function () {
    if (music && !video.ended) {
      music.pause();
    }
  });
  button.hidden = false;
  button.addEventListener("click", function () {
    if (video.ended && index === clips.length - 1) {
      load(0);
    }
    video.play();
  });
})();
